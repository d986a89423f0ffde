import Testing

@Test func placeholderPacketDecoding() {}
