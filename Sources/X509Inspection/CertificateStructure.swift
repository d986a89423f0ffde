import SwiftASN1
import TextFormatting
import X509

// RFC 5280 §4.1, walked node by node with swift-asn1 rather than through `X509.Certificate`:
// swift-certificates rejects a whole certificate whose key it cannot use (DSA, Ed448, RSA under 1024
// bits...), whose serial is negative, or whose encoding bends DER, and keeps the algorithm identifiers
// internal, while the contract reports every certificate seen on the wire. RFC 5280 §4.1.2.2 asks for
// graceful handling of such certificates, so the walk is lenient where real certificates deviate (BER
// lengths, DEFAULT values encoded, negative or long serials, unsorted SET OF, odd times, one malformed
// extension) and throws only when the structure itself cannot be read.
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

    init(derEncoded node: ASN1Node) throws {
        var fields = try children(of: node, identifier: .sequence)
        algorithm = try ASN1ObjectIdentifier(derEncoded: try requiredNode(&fields))
        parameters = fields.next()
    }
}

/// The fields of one certificate that the summary needs.
struct CertificateStructure {
    /// The DER (or BER) bytes of tbsCertificate, what the signature covers.
    var signedBytes: ArraySlice<UInt8>
    /// The INTEGER's content octets: two's complement, possibly negative (RFC 5280 §4.1.2.2).
    var serialNumber: ArraySlice<UInt8>
    var issuer: DistinguishedName
    var subject: DistinguishedName
    var notBefore: Int64
    var notAfter: Int64
    var publicKeyAlgorithm: AlgorithmIdentifierFields
    var publicKey: ArraySlice<UInt8>
    /// The whole SubjectPublicKeyInfo, as RSA key import wants it.
    var subjectPublicKeyInfo: ArraySlice<UInt8>
    /// Every extension that parsed, in certificate order.
    var extensions: [Certificate.Extension]
    /// The outer signatureAlgorithm (what the issuer actually signed with).
    var signatureAlgorithm: AlgorithmIdentifierFields
    var signature: ArraySlice<UInt8>

    init(derEncoded der: [UInt8]) throws {
        // DER first; BER (indefinite or over-long lengths) only for certificates that need it.
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            root = try BER.parse(der)
        }
        var outer = try children(of: root, identifier: .sequence)
        let tbsCertificate = try requiredNode(&outer)
        signatureAlgorithm = try AlgorithmIdentifierFields(derEncoded: try requiredNode(&outer))
        signature = try bitStringBytes(try requiredNode(&outer))
        guard outer.next() == nil else { throw ASN1Error.invalidASN1Object(reason: "extra certificate field") }
        signedBytes = tbsCertificate.encodedBytes

        var nodes = try children(of: tbsCertificate, identifier: .sequence)
        var next = try requiredNode(&nodes)
        if next.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            // Version: any value is read past (v1 encoded explicitly is a DER error seen in the wild).
            next = try requiredNode(&nodes)
        }
        guard next.identifier == .integer, case .primitive(let serial) = next.content else {
            throw ASN1Error.unexpectedFieldType(next.identifier)
        }
        serialNumber = serial
        _ = try AlgorithmIdentifierFields(derEncoded: try requiredNode(&nodes))
        issuer = try leniently(decodingName: try requiredNode(&nodes))
        // Validity ::= SEQUENCE { notBefore Time, notAfter Time }
        var validity = try children(of: try requiredNode(&nodes), identifier: .sequence)
        notBefore = try epochSeconds(try requiredNode(&validity))
        notAfter = try epochSeconds(try requiredNode(&validity))
        subject = try leniently(decodingName: try requiredNode(&nodes))
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
        let keyInfo = try requiredNode(&nodes)
        subjectPublicKeyInfo = keyInfo.encodedBytes
        var keyFields = try children(of: keyInfo, identifier: .sequence)
        publicKeyAlgorithm = try AlgorithmIdentifierFields(derEncoded: try requiredNode(&keyFields))
        publicKey = try bitStringBytes(try requiredNode(&keyFields))
        // Unique identifiers are skipped; the extensions, when present, come last.
        extensions = []
        while let node = nodes.next() {
            guard node.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific) else { continue }
            var wrapper = try children(of: node, identifier: node.identifier)
            extensions = leniently(decodingExtensions: try requiredNode(&wrapper))
        }
    }
}

// MARK: - Lenient pieces

func requiredNode(_ nodes: inout ASN1NodeCollection.Iterator) throws -> ASN1Node {
    guard let node = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "missing field") }
    return node
}

/// The children of a constructed node with the given tag.
private func children(of node: ASN1Node, identifier: ASN1Identifier) throws -> ASN1NodeCollection.Iterator {
    guard node.identifier == identifier, case .constructed(let nodes) = node.content else {
        throw ASN1Error.unexpectedFieldType(node.identifier)
    }
    return nodes.makeIterator()
}

/// The bytes of a BIT STRING, without insisting that DER's unused bits be zero.
private func bitStringBytes(_ node: ASN1Node) throws -> ArraySlice<UInt8> {
    guard node.identifier == .bitString, case .primitive(let content) = node.content, let unused = content.first,
        unused < 8
    else { throw ASN1Error.unexpectedFieldType(node.identifier) }
    return content.dropFirst()
}

/// A Name through swift-certificates when it is strict DER, else attribute by attribute (an unsorted
/// multi-valued RDN, a BER length inside).
private func leniently(decodingName node: ASN1Node) throws -> DistinguishedName {
    if let name = try? DistinguishedName(derEncoded: node) { return name }
    // Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET OF SEQUENCE { type OID, value ANY }
    var rdns: [RelativeDistinguishedName] = []
    var sequence = try children(of: node, identifier: .sequence)
    while let set = sequence.next() {
        var attributes: [RelativeDistinguishedName.Attribute] = []
        var members = try children(of: set, identifier: .set)
        while let member = members.next() {
            var fields = try children(of: member, identifier: .sequence)
            let type = try ASN1ObjectIdentifier(derEncoded: try requiredNode(&fields))
            let value = ASN1Any(derEncoded: try requiredNode(&fields))
            attributes.append(RelativeDistinguishedName.Attribute(type: type, value: value))
        }
        rdns.append(RelativeDistinguishedName(attributes))
    }
    return DistinguishedName(rdns)
}

/// Extensions ::= SEQUENCE OF Extension; Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT
/// FALSE, extnValue OCTET STRING }. An extension that does not parse is left out, not the certificate.
private func leniently(decodingExtensions node: ASN1Node) -> [Certificate.Extension] {
    guard var list = try? children(of: node, identifier: .sequence) else { return [] }
    var extensions: [Certificate.Extension] = []
    while let item = list.next() {
        if let strict = try? Certificate.Extension(derEncoded: item) {
            extensions.append(strict)
            continue
        }
        guard var fields = try? children(of: item, identifier: .sequence), let idNode = fields.next(),
            let oid = try? ASN1ObjectIdentifier(derEncoded: idNode), var field = fields.next()
        else { continue }
        var critical = false
        if field.identifier == .boolean, case .primitive(let flag) = field.content {
            critical = flag.contains { $0 != 0 }
            guard let valueNode = fields.next() else { continue }
            field = valueNode
        }
        guard field.identifier == .octetString, case .primitive(let value) = field.content else { continue }
        extensions.append(Certificate.Extension(oid: oid, critical: critical, value: value))
    }
    return extensions
}

/// Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }, as seconds since 1970 (UTC).
/// swift-asn1's types first; if they refuse (no seconds, a time zone offset, a fraction in UTCTime),
/// the digits are read here.
private func epochSeconds(_ node: ASN1Node) throws -> Int64 {
    let components: (year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int)?
    switch node.identifier {
    case UTCTime.defaultIdentifier:
        components = (try? UTCTime(derEncoded: node)).map {
            ($0.year, $0.month, $0.day, $0.hours, $0.minutes, $0.seconds)
        }
    case GeneralizedTime.defaultIdentifier:
        components = (try? GeneralizedTime(derEncoded: node)).map {
            ($0.year, $0.month, $0.day, $0.hours, $0.minutes, $0.seconds)
        }
    default:
        throw ASN1Error.unexpectedFieldType(node.identifier)
    }
    if let components, let seconds = epochSeconds(
        year: components.year, month: components.month, day: components.day, hours: components.hours,
        minutes: components.minutes, seconds: components.seconds)
    {
        return seconds
    }
    guard case .primitive(let text) = node.content,
        let seconds = lenientTime(Array(text), generalized: node.identifier == GeneralizedTime.defaultIdentifier)
    else { throw ASN1Error.invalidASN1Object(reason: "unreadable time") }
    return seconds
}

/// UTCTime "YYMMDDhhmm[ss](Z|±hhmm)" (RFC 5280 §4.1.2.5.1: YY < 50 is 20YY) or GeneralizedTime
/// "YYYYMMDDhhmm[ss[.f*]](Z|±hhmm)?", read leniently.
func lenientTime(_ text: [UInt8], generalized: Bool) -> Int64? {
    var index = 0
    func number(_ width: Int) -> Int? {
        guard index + width <= text.count else { return nil }
        var value = 0
        for byte in text[index..<index + width] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += width
        return value
    }
    let year: Int
    if generalized {
        guard let full = number(4) else { return nil }
        year = full
    } else {
        guard let short = number(2) else { return nil }
        year = short < 50 ? 2000 + short : 1900 + short
    }
    guard let month = number(2), let day = number(2), let hours = number(2), let minutes = number(2) else {
        return nil
    }
    var seconds = 0
    if index < text.count, (0x30...0x39).contains(text[index]) {
        guard let value = number(2) else { return nil }
        seconds = value
    }
    if index < text.count, text[index] == UInt8(ascii: ".") || text[index] == UInt8(ascii: ",") {
        index += 1
        while index < text.count, (0x30...0x39).contains(text[index]) { index += 1 }
    }
    var offset = 0
    if index < text.count {
        switch text[index] {
        case UInt8(ascii: "Z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = text[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), let offsetMinutes = number(2), offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        default:
            return nil
        }
    }
    guard index == text.count,
        let local = epochSeconds(
            year: year, month: month, day: day, hours: hours, minutes: minutes, seconds: seconds)
    else { return nil }
    // A local time with offset +hhmm is that much ahead of UTC.
    return local - Int64(offset)
}

/// Seconds since 1970 of a UTC time, through the shared civil-date helper; nil for an impossible date.
func epochSeconds(year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int) -> Int64? {
    CivilDate.epochSeconds(
        year: Int64(year), month: month, day: day, hour: hours, minute: minutes, second: seconds)
}
