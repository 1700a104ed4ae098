import Foundation

/// A file in the temporary folder, one per harness process, that each fuzz input is written to before the reader
/// under test opens it by path (HDF5, safetensors and configuration files are read from paths, as `stitch` does).
public struct ScratchFile: Sendable {
  public let path: String
  public var url: URL { URL(fileURLWithPath: path) }

  /// `name` is the file name's tail, e.g. "d4rl.hdf5" or "config.toml" (the extension matters to some readers).
  public init(_ name: String, folder: String? = nil) {
    let base = folder ?? NSTemporaryDirectory()
    path = (base as NSString).appendingPathComponent("stitch-fuzz-\(getpid())-\(name)")
  }

  /// A file at exactly `path` (for readers that need a fixed name, such as Minari's `data/metadata.json`).
  public init(path: String) { self.path = path }

  /// Replaces the file's contents with `count` bytes at `bytes`. Traps only when the temporary folder cannot be
  /// written, which is a broken machine, not a finding.
  public func write(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path): \(String(cString: strerror(errno)))")
    var written = 0
    while written < count {
      let n = Foundation.write(fd, bytes + written, count - written)
      precondition(n > 0, "cannot write \(path): \(String(cString: strerror(errno)))")
      written += n
    }
    close(fd)
  }
}
