import Testing

@Test func placeholderReporting() {}
