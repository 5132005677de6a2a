import ArgumentParser
import KubeModel

/// Duration flags (`--metrics-resolution 1s`) written as Kubernetes' own flags are: Go syntax.
extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let parsed = GoDuration.parse(argument) else { return nil }
        self = parsed
    }

    public var defaultValueDescription: String {
        let (seconds, attoseconds) = components
        return GoDuration.format(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
