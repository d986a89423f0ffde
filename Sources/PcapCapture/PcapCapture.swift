import CPcap
// PLACEHOLDER
