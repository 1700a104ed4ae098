/// The heap storage behind a `Tensor`: a Float32 buffer recycled through a per-thread pool.
///
/// Buffers return to the pool of the thread that frees them (`BufferPool`), so a training step that allocates
/// the same sizes every iteration does no `malloc` in the steady state.
public final class TensorStorage: @unchecked Sendable {
  public let buffer: UnsafeMutableBufferPointer<Float>
  @inline(__always) public var count: Int { buffer.count }

  /// Uninitialised storage for `count` floats.
  init(uninitializedCount count: Int) {
    buffer = BufferPool.take(count)
  }

  /// Storage filled with `value`.
  convenience init(count: Int, repeating value: Float) {
    self.init(uninitializedCount: count)
    if count > 0 { buffer.baseAddress!.initialize(repeating: value, count: count) }
  }

  /// A copy of `other`'s contents.
  convenience init(copying other: TensorStorage) {
    self.init(uninitializedCount: other.count)
    if other.count > 0 { buffer.baseAddress!.update(from: other.buffer.baseAddress!, count: other.count) }
  }

  deinit { BufferPool.give(buffer) }
}

/// A per-thread free list of Float buffers keyed by element count.
///
/// Why per thread: no locks on the hot path, and each worker (seed, ensemble member, evaluation) reuses its own
/// buffers. A buffer freed on another thread simply joins that thread's pool. Pools are capped so a change of
/// batch size cannot hoard memory.
enum BufferPool {
  final class Pool {
    var free: [Int: [UnsafeMutableBufferPointer<Float>]] = [:]
    var pooledFloats = 0
    static let maxPooledFloats = 64 << 20  // 256 MiB of Float32 per thread at most

    deinit {
      for (_, list) in free { for b in list { b.deallocate() } }
    }
  }

  static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { pointer in
      if let pointer { Unmanaged<Pool>.fromOpaque(pointer).release() }
    }
    return key
  }()

  @inline(__always) static var pool: Pool {
    if let p = pthread_getspecific(key) { return Unmanaged<Pool>.fromOpaque(p).takeUnretainedValue() }
    let p = Pool()
    pthread_setspecific(key, Unmanaged.passRetained(p).toOpaque())
    return p
  }

  static func take(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
    if count == 0 { return UnsafeMutableBufferPointer(start: nil, count: 0) }
    let p = pool
    if var list = p.free[count], let b = list.popLast() {
      p.free[count] = list
      p.pooledFloats -= count
      return b
    }
    return UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
  }

  static func give(_ buffer: UnsafeMutableBufferPointer<Float>) {
    guard buffer.count > 0 else { return }
    let p = pool
    if p.pooledFloats + buffer.count > Pool.maxPooledFloats {
      buffer.deallocate()
      return
    }
    p.free[buffer.count, default: []].append(buffer)
    p.pooledFloats += buffer.count
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
