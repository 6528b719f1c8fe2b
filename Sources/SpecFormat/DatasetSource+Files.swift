/// The files a dataset reads, and the same source with its paths as the spec wrote them.
extension DatasetSource {
    /// The files this source reads, in order (none for `shapes`).
    public var files: [String] {
        switch self {
        case .shapes: return []
        case .csv(let csv): return [csv.path]
        case .idx(let images, let labels): return [images, labels]
        case .cifar10(let batches): return batches
        }
    }

    /// The same source with `prefix` (the spec's directory and a slash, as the parser
    /// prepended it to relative paths) removed from the front of each path that has it.
    public func stripping(directoryPrefix prefix: String) -> DatasetSource {
        guard !prefix.isEmpty else { return self }
        let strip = { (path: String) in path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path }
        switch self {
        case .shapes: return self
        case .csv(var csv):
            csv.path = strip(csv.path)
            return .csv(csv)
        case .idx(let images, let labels): return .idx(images: strip(images), labels: strip(labels))
        case .cifar10(let batches): return .cifar10(batches: batches.map(strip))
        }
    }
}
