import Foundation

/// Paths into the repository the fuzz package sits in (tools/fuzz), for model fixtures.
public enum RepositoryPaths {
    public static var root: URL {
        // …/tools/fuzz/Sources/FuzzSupport/RepositoryPaths.swift → the repository root.
        var u = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { u.deleteLastPathComponent() }
        return u
    }

    /// The tiny CLIP model the tests use (Tests/TTADModelTests/Fixtures/clip-models/quick).
    public static var quickModel: String {
        root.appendingPathComponent("Tests/TTADModelTests/Fixtures/clip-models/quick").path
    }
}
