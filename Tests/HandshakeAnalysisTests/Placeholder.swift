import Testing

@Test func placeholderHandshakeAnalysis() {}
