import Testing

@Test func placeholderTLSWire() {}
