import WireCursor

extension DecodeError {
    /// A short stable name for why a frame could not be decoded, for counting undecodable frames by reason
    /// in the summary: the layer that failed and the kind of defect, e.g. "ipv4-truncated",
    /// "tcp-malformed", "vlan-too-large", "tunnel-too-large", "link-unsupported". Layers: link (Ethernet,
    /// cooked SLL/SLL2, loopback, PPP and Cisco HDLC framing, the link type itself), vlan, mpls, pppoe, ip (the version nibble), ipv4,
    /// ipv6, tcp, udp, tunnel (GRE, ERSPAN, VXLAN, VXLAN-GPE, GENEVE, nesting depth); "other" for a context
    /// the table does not name. Errors come off the per-packet path only when a frame fails, so building
    /// the string there costs nothing on good frames.
    public var frameReason: String {
        "\(Self.layer(of: context))-\(Self.kind(of: code))"
    }

    static func kind(of code: Code) -> String {
        switch code {
        case .truncated: "truncated"
        case .malformed: "malformed"
        case .tooLarge: "too-large"
        default: "unsupported"
        }
    }

    /// Context prefixes (the part before the first ".", or the whole context) the decoder throws with,
    /// and the layer each one names.
    static let layers: [(prefix: String, layer: String)] = [
        ("Ethernet", "link"), ("SLL", "link"), ("SLL2", "link"), ("loopback", "link"), ("link type", "link"),
        ("PPP link", "link"), ("Cisco HDLC", "link"),
        ("802", "vlan"), ("MPLS", "mpls"), ("PPPoE", "pppoe"), ("PPP", "pppoe"),
        ("IP", "ip"), ("IPv4", "ipv4"), ("IPv6", "ipv6"), ("TCP", "tcp"), ("UDP", "udp"),
        ("GRE", "tunnel"), ("ERSPAN", "tunnel"), ("VXLAN", "tunnel"), ("VXLAN-GPE", "tunnel"),
        ("GENEVE", "tunnel"), ("tunnel depth", "tunnel"),
    ]

    static func layer(of context: StaticString) -> String {
        let text = context.description
        let prefix = text.split(separator: ".", maxSplits: 1).first.map(String.init) ?? text
        return layers.first { $0.prefix == prefix }?.layer ?? "other"
    }
}
