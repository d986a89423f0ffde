import SwiftASN1
import X509

// RFC 5280 §4.1, walked with swift-asn1 rather than through `X509.Certificate`: swift-certificates
// rejects a whole certificate whose key it cannot use (DSA, Ed448, RSA under 1024 bits...) and keeps the
// algorithm identifiers internal, while the contract reports every certificate seen on the wire.
//
//   Certificate  ::=  SEQUENCE  {
//        tbsCertificate       TBSCertificate,
//        signatureAlgorithm   AlgorithmIdentifier,
//        signatureValue       BIT STRING  }
//
//   TBSCertificate  ::=  SEQUENCE  {
//        version         [0]  EXPLICIT Version DEFAULT v1,
//        serialNumber         CertificateSerialNumber,
//        signature            AlgorithmIdentifier,
//        issuer               Name,
//        validity             Validity,
//        subject              Name,
//        subjectPublicKeyInfo SubjectPublicKeyInfo,
//        issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
//        subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
//        extensions      [3]  EXPLICIT Extensions OPTIONAL }

/// AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
/// (swift-certificates' own type is internal.)
struct AlgorithmIdentifierFields {
    var algorithm: ASN1ObjectIdentifier
    var parameters: ASN1Node?

    init(derEncoded nodes: inout ASN1NodeCollection.Iterator) throws {
        (algorithm, parameters) = try DER.sequence(try requiredNode(&nodes), identifier: .sequence) { fields in
            (try ASN1ObjectIdentifier(derEncoded: &fields), fields.next())
        }
    }
}

/// The fields of one certificate that the summary needs.
struct CertificateStructure {
    var serialNumber: ArraySlice<UInt8>
    var issuer: DistinguishedName
    var subject: DistinguishedName
    var notBefore: Int64
    var notAfter: Int64
    var publicKeyAlgorithm: AlgorithmIdentifierFields
    var publicKey: ASN1BitString
    var extensions: [Certificate.Extension]
    /// The outer signatureAlgorithm (what the issuer actually signed with).
    var signatureAlgorithm: AlgorithmIdentifierFields

    init(derEncoded der: [UInt8]) throws {
        self = try DER.sequence(try DER.parse(der), identifier: .sequence) { outer in
            let tbsCertificate = try requiredNode(&outer)
            let signatureAlgorithm = try AlgorithmIdentifierFields(derEncoded: &outer)
            _ = try ASN1BitString(derEncoded: &outer)
            return try DER.sequence(tbsCertificate, identifier: .sequence) { nodes in
                let version = try DER.decodeDefaultExplicitlyTagged(
                    &nodes, tagNumber: 0, tagClass: .contextSpecific, defaultValue: Int(0)
                )
                guard (0...2).contains(version) else {
                    throw ASN1Error.invalidASN1Object(reason: "invalid X.509 version")
                }
                let serialNumber = try ArraySlice<UInt8>(derEncoded: &nodes)
                _ = try AlgorithmIdentifierFields(derEncoded: &nodes)
                let issuer = try DistinguishedName(derEncoded: try requiredNode(&nodes))
                // Validity ::= SEQUENCE { notBefore Time, notAfter Time }
                let (notBefore, notAfter) = try DER.sequence(try requiredNode(&nodes), identifier: .sequence) {
                    validity in (try epochSeconds(&validity), try epochSeconds(&validity))
                }
                let subject = try DistinguishedName(derEncoded: try requiredNode(&nodes))
                // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
                let (keyAlgorithm, key) = try DER.sequence(try requiredNode(&nodes), identifier: .sequence) {
                    spki in (try AlgorithmIdentifierFields(derEncoded: &spki), try ASN1BitString(derEncoded: &spki))
                }
                let _: ASN1BitString? = try DER.optionalImplicitlyTagged(&nodes, tag: uniqueIDTag(1))
                let _: ASN1BitString? = try DER.optionalImplicitlyTagged(&nodes, tag: uniqueIDTag(2))
                let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 3, tagClass: .contextSpecific) {
                    try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: $0)
                }
                return CertificateStructure(
                    serialNumber: serialNumber, issuer: issuer, subject: subject, notBefore: notBefore,
                    notAfter: notAfter, publicKeyAlgorithm: keyAlgorithm, publicKey: key,
                    extensions: extensions ?? [], signatureAlgorithm: signatureAlgorithm
                )
            }
        }
    }

    private init(
        serialNumber: ArraySlice<UInt8>, issuer: DistinguishedName, subject: DistinguishedName, notBefore: Int64,
        notAfter: Int64, publicKeyAlgorithm: AlgorithmIdentifierFields, publicKey: ASN1BitString,
        extensions: [Certificate.Extension], signatureAlgorithm: AlgorithmIdentifierFields
    ) {
        self.serialNumber = serialNumber
        self.issuer = issuer
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.publicKeyAlgorithm = publicKeyAlgorithm
        self.publicKey = publicKey
        self.extensions = extensions
        self.signatureAlgorithm = signatureAlgorithm
    }
}

private func requiredNode(_ nodes: inout ASN1NodeCollection.Iterator) throws -> ASN1Node {
    guard let node = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "missing field") }
    return node
}

private func uniqueIDTag(_ number: UInt) -> ASN1Identifier {
    ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
}

/// Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }, as seconds since 1970 (UTC).
private func epochSeconds(_ nodes: inout ASN1NodeCollection.Iterator) throws -> Int64 {
    guard let node = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "missing time") }
    switch node.identifier {
    case UTCTime.defaultIdentifier:
        let time = try UTCTime(derEncoded: node)
        return epochSeconds(
            year: time.year, month: time.month, day: time.day, hours: time.hours, minutes: time.minutes,
            seconds: time.seconds
        )
    case GeneralizedTime.defaultIdentifier:
        let time = try GeneralizedTime(derEncoded: node)
        return epochSeconds(
            year: time.year, month: time.month, day: time.day, hours: time.hours, minutes: time.minutes,
            seconds: time.seconds
        )
    default:
        throw ASN1Error.unexpectedFieldType(node.identifier)
    }
}

/// Days-from-civil (proleptic Gregorian), so no Foundation calendar is needed. swift-asn1 has already
/// range-checked every component (year 0...9999), so the arithmetic cannot overflow.
func epochSeconds(year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return Int64(days) * 86_400 + Int64(hours * 3600 + minutes * 60 + seconds)
}
