import Testing

@Test func placeholderFingerprints() {}
