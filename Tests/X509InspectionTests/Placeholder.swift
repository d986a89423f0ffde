import Testing

@Test func placeholderX509Inspection() {}
