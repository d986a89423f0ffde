import TLSWire
import WireCursor

// RFC 9146 §3 (DTLS 1.2) and RFC 9147 §9 (DTLS 1.3), extension connection_id (54):
//
//     struct {
//         opaque cid<0..2^8-1>;
//     } ConnectionId;
//
// Each side names the CID it wants to RECEIVE: the records the peer sends carry it. A zero-length cid
// means "I accept CIDs but send none to you"; CIDs are used only when both hellos carry the extension.

/// The cid of a connection_id extension (type 54) in `extensions`, nil when absent or malformed.
public func connectionID(in extensions: [TLSExtension]) -> [UInt8]? {
    guard let body = extensions.first(where: { $0.type == .connectionID })?.body else { return nil }
    return body.withUnsafeBytes { buffer -> [UInt8]? in
        var cursor = ByteCursor(buffer)
        guard let cid = try? cursor.readLengthPrefixed8("ConnectionId.cid"), cursor.isEmpty else { return nil }
        return cid.remainingBytes
    }
}

extension ClientHello {
    /// RFC 9146 §3: the connection id the client wants in the records the server sends; nil without the extension.
    public var connectionID: [UInt8]? { DTLSWire.connectionID(in: extensions) }
}

extension ServerHello {
    /// RFC 9146 §3: the connection id the server wants in the records the client sends; nil without the extension.
    public var connectionID: [UInt8]? { DTLSWire.connectionID(in: extensions) }
}
