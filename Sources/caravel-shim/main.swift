// Placeholder: the shim is being written (see Package.swift).
print("caravel-shim")
