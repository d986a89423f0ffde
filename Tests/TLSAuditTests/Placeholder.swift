import Testing

@Test func placeholderTLSAudit() {}
