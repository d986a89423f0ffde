import HandshakeAnalysis
// PLACEHOLDER
