// PLACEHOLDER
print("tlsscope")
