import SwiftASN1
import TextFormatting
import X509

// RFC 4514 string forms. swift-certificates' `DistinguishedName.description` is close but not RFC 4514:
// it writes emailAddress as "E=", renders unknown attribute types without the "#" hex form, and does not
// escape control characters. The output here matches `openssl x509 -nameopt RFC2253` except that
// non-ASCII characters stay UTF-8 (RFC 4514 §2.4) instead of OpenSSL's "\C3\A9" escapes.

/// Attribute type descriptors (RFC 4514 §3, RFC 4519; OpenSSL's short names for the PKCS #9, EV and
/// organizationIdentifier types, which have no RFC 4514 descriptor).
private let attributeTypeNames: [ASN1ObjectIdentifier: String] = [
    [2, 5, 4, 3]: "CN",
    [2, 5, 4, 4]: "SN",
    [2, 5, 4, 5]: "serialNumber",
    [2, 5, 4, 6]: "C",
    [2, 5, 4, 7]: "L",
    [2, 5, 4, 8]: "ST",
    [2, 5, 4, 9]: "STREET",
    [2, 5, 4, 10]: "O",
    [2, 5, 4, 11]: "OU",
    [2, 5, 4, 12]: "title",
    [2, 5, 4, 13]: "description",
    [2, 5, 4, 15]: "businessCategory",
    [2, 5, 4, 17]: "postalCode",
    [2, 5, 4, 41]: "name",
    [2, 5, 4, 42]: "GN",
    [2, 5, 4, 43]: "initials",
    [2, 5, 4, 44]: "generationQualifier",
    [2, 5, 4, 46]: "dnQualifier",
    [2, 5, 4, 65]: "pseudonym",
    [2, 5, 4, 97]: "organizationIdentifier",
    [0, 9, 2342, 19_200_300, 100, 1, 1]: "UID",
    [0, 9, 2342, 19_200_300, 100, 1, 25]: "DC",
    [1, 2, 840, 113_549, 1, 9, 1]: "emailAddress",
    [1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 1]: "jurisdictionL",
    [1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 2]: "jurisdictionST",
    [1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3]: "jurisdictionC",
]

/// RFC 4514 §2.1: RDNs from the last (most specific) to the first, joined by ","; the attributes of a
/// multi-valued RDN joined by "+". RFC 4514 leaves their order open; like `openssl -nameopt RFC2253`,
/// which reverses the flattened attribute list, we write them in reverse DER SET OF order.
func rfc4514String(_ name: DistinguishedName) -> String {
    name.reversed().map { rdn in
        rdn.reversed().map(rfc4514String).joined(separator: "+")
    }.joined(separator: ",")
}

private func rfc4514String(_ attribute: RelativeDistinguishedName.Attribute) -> String {
    let any = ASN1Any(attribute.value)
    guard let name = attributeTypeNames[attribute.type], let text = decodedString(any) else {
        // RFC 4514 §2.4: an unknown type is written as its dotted OID, and its value as "#" + hex of the
        // value's BER encoding (also used when a known type holds a non-string value).
        return "\(attribute.type)=#" + Hex.string(derBytes(any))
    }
    return name + "=" + escapedValue(text)
}

private func derBytes(_ any: ASN1Any) -> [UInt8] {
    var serializer = DER.Serializer()
    do {
        try serializer.serialize(any)
    } catch {
        return []
    }
    return serializer.serializedBytes
}

/// The text of a directory string (X.520 DirectoryString and the IA5/Visible/Numeric types), or nil
/// for any other ASN.1 type.
func decodedString(_ any: ASN1Any) -> String? {
    guard let node = try? DER.parse(derBytes(any)), case .primitive(let bytes) = node.content else { return nil }
    switch node.identifier {
    case ASN1UTF8String.defaultIdentifier, ASN1PrintableString.defaultIdentifier, ASN1IA5String.defaultIdentifier,
        ASN1VisibleString.defaultIdentifier, .numericString:
        return String(decoding: bytes, as: UTF8.self)
    case ASN1TeletexString.defaultIdentifier:
        // T.61 in practice carries Latin-1 (OpenSSL reads it so too).
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    case ASN1BMPString.defaultIdentifier:
        guard bytes.count % 2 == 0 else { return nil }
        // Even count checked above, so `index + 1` stays inside the slice.
        var units: [UInt16] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            index += 2
        }
        return String(decoding: units, as: UTF16.self)
    case ASN1UniversalString.defaultIdentifier:
        guard bytes.count % 4 == 0 else { return nil }
        // Multiple of 4 checked above, so `index + 4` stays inside the slice.
        var scalars = String.UnicodeScalarView()
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let value = bytes[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            index += 4
        }
        return String(scalars)
    default:
        return nil
    }
}

/// RFC 4514 §2.4 escaping: the special characters, a leading space or "#", a trailing space, and
/// (as hex pairs) NUL and the other control characters.
func escapedValue(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    var out = ""
    for (index, scalar) in scalars.enumerated() {
        switch scalar {
        case "\"", "+", ",", ";", "<", ">", "\\":
            out += "\\" + String(scalar)
        case " " where index == 0 || index == scalars.count - 1, "#" where index == 0:
            out += "\\" + String(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0x7f:
            out += "\\" + Hex.string([UInt8(scalar.value)])
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

extension ASN1Identifier {
    fileprivate static let numericString = ASN1Identifier(tagWithNumber: 18, tagClass: .universal)
}
