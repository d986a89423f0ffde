import Testing

@Test func placeholderPcapCapture() {}
