import WireCursor

extension ServerKeyExchange {
    /// RFC 8422 §5.4: ECParameters.curve_type 3 (named_curve), then the NamedCurve; nil if not that layout.
    ///
    ///     struct {
    ///         ECCurveType    curve_type;     /* 3 = named_curve */
    ///         select (curve_type) { case named_curve: NamedCurve namedcurve; };
    ///     } ECParameters;
    ///     struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;   /* ECPoint: opaque point<1..2^8-1> */
    public var ecdheNamedGroup: NamedGroup? {
        parseBytes(body) { (cursor) throws(DecodeError) -> NamedGroup? in
            guard try cursor.readUInt8("ECParameters.curve_type") == 3 else { return nil }
            let group = NamedGroup(rawValue: try cursor.readUInt16("ECParameters.namedcurve"))
            let point = try cursor.readLengthPrefixed8("ServerECDHParams.public")
            return point.isEmpty ? nil : group
        } ?? nil
    }

    /// RFC 5246 §7.4.3 ServerDHParams: the bit length of dh_p (leading zero bits not counted); nil if not that layout.
    ///
    ///     struct {
    ///         opaque dh_p<1..2^16-1>;
    ///         opaque dh_g<1..2^16-1>;
    ///         opaque dh_Ys<1..2^16-1>;
    ///     } ServerDHParams;     /* Ephemeral DH parameters */
    ///
    /// All three fields must be present and non-empty, so an ECDHE body is not mistaken for DH.
    public var dhPrimeBits: Int? {
        parseBytes(body) { (cursor) throws(DecodeError) -> Int? in
            let prime = try cursor.readLengthPrefixed16("ServerDHParams.dh_p")
            let generator = try cursor.readLengthPrefixed16("ServerDHParams.dh_g")
            let publicValue = try cursor.readLengthPrefixed16("ServerDHParams.dh_Ys")
            guard !prime.isEmpty, !generator.isEmpty, !publicValue.isEmpty else { return nil }
            var bits = 0
            for (index, byte) in prime.remainingBuffer.enumerated() where byte != 0 {
                bits = (prime.remaining - index - 1) * 8 + (8 - byte.leadingZeroBitCount)
                break
            }
            return bits
        } ?? nil
    }
}
