/// A column of a `meta.k8s.io/v1` Table, as `kubectl get` prints it.
public struct TableColumn: Sendable {
    public var name: String
    /// OpenAPI type: string, integer, number, boolean, date.
    public var type: String
    public var format: String
    public var description: String
    /// 0 for default columns, 1 for columns `-o wide` adds.
    public var priority: Int

    public init(_ name: String, type: String = "string", format: String = "", description: String = "", priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }
}
