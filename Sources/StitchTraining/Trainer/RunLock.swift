import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a run folder while a process trains in it (`flock` on `RUN/.stitch-lock`), so that a second
/// `stitch train --resume`, `stitch finetune` or `stitch finetune --resume` of a run still training is refused
/// instead of writing beside it or reading a checkpoint that is about to change. The kernel releases the lock when
/// the process ends in any way (a killed run leaves no stale lock); the empty file stays.
public final class RunLock {
  let descriptor: Int32
  static let name = ".stitch-lock"

  init(descriptor: Int32) { self.descriptor = descriptor }
  deinit {
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }

  /// Takes the lock of `folder` (created if missing), or throws naming the folder when another holder has it.
  public static func acquire(_ folder: URL) throws -> RunLock {
    let path = folder.appendingPathComponent(name).path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw RunFolderError("\(folder.path): cannot open its lock file \(name): \(String(cString: strerror(errno)))") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw RunFolderError("\(folder.path) is in use: another stitch process is training in it (its folder is locked); wait for it to finish or stop it first")
    }
    return RunLock(descriptor: fd)
  }

  /// Whether some process holds `folder`'s lock now (a run still training there).
  public static func isHeld(_ folder: URL) -> Bool {
    let path = folder.appendingPathComponent(name).path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return true }
    flock(fd, LOCK_UN)
    return false
  }
}
