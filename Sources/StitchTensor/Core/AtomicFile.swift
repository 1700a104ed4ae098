import Foundation

/// Writes files so that a crash never leaves a half-written one: the bytes go to a temporary file in the same
/// folder, which is flushed and then renamed over the destination (rename is atomic within a file system).
public enum AtomicFile {
  /// Atomically replaces (or creates) `url` with `data`.
  /// - Throws: an error naming the file when the folder cannot be written.
  public static func write(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "cannot write \(url.path) (temporary file \(temporary.lastPathComponent) could not be created)"])
    }
    if let handle = FileHandle(forWritingAtPath: temporary.path) { try? handle.synchronize(); try? handle.close() }
    if rename(temporary.path, url.path) != 0 {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "cannot write \(url.path): \(reason)"])
    }
  }

  /// Atomically replaces (or creates) `url` with UTF-8 text.
  public static func write(_ text: String, to url: URL) throws { try write(Data(text.utf8), to: url) }
}
