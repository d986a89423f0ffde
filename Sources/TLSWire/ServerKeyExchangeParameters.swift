import WireCursor

extension ServerKeyExchange {
    /// RFC 8422 §5.4: ECParameters.curve_type 3 (named_curve), then the NamedCurve; nil if not that layout.
    public var ecdheNamedGroup: NamedGroup? { nil /* PLACEHOLDER */ }

    /// RFC 5246 §7.4.3 ServerDHParams: the bit length of dh_p (leading zero bits not counted); nil if not that layout.
    public var dhPrimeBits: Int? { nil /* PLACEHOLDER */ }
}
