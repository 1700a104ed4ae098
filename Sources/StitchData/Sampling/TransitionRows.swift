#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenBLAS
import StitchTensor

/// An interleaved, row-major copy of a dataset's transitions for fast random minibatches.
///
/// Each transition is one contiguous row: observation, next observation, action, next action (as
/// `Batch.nextActions` defines it), reward, flags (terminal + 2 × next action known), padded to a
/// whole number of 64-byte cache lines. A random transition of a 1M-row dataset then costs 2 (Hopper: 11 + 11 + 3
/// + 3 + 2 = 30 floats) or 3 (HalfCheetah: 48 floats) adjacent cache lines instead of one line in each of seven
/// columns, and all of a batch's lines are requested before any is copied, so the DRAM misses overlap. The block
/// is 2 MiB-aligned and advised for transparent huge pages where the kernel offers them (fewer TLB misses on a
/// 200 MB table of random rows). Built once per sampler (about 0.1–0.3 s and 128–192 bytes per transition); it
/// is read-only afterwards, so samplers on several threads share it.
public final class TransitionRows: @unchecked Sendable {
  public let count: Int
  public let observationDim: Int
  public let actionDim: Int
  /// Floats per row (a multiple of 16).
  public let stride: Int
  /// Whether rows carry the dataset's returns-to-go (one float after the flags).
  public let hasReturnsToGo: Bool
  private let base: UnsafeMutablePointer<Float>

  private static let hugePage = 2 << 20

  public init(_ ds: Dataset) {
    let n = ds.count, od = ds.observationDim, ad = ds.actionDim
    count = n
    observationDim = od
    actionDim = ad
    hasReturnsToGo = ds.returnsToGo != nil
    stride = ((2 * od + 2 * ad + 2 + (ds.returnsToGo != nil ? 1 : 0)) + 15) / 16 * 16
    let bytes = Swift.max(n * stride * MemoryLayout<Float>.stride, 64)
    var raw: UnsafeMutableRawPointer?
    let alignment = bytes >= Self.hugePage ? Self.hugePage : 64
    if posix_memalign(&raw, alignment, bytes) != 0 || raw == nil {
      // posix_memalign fails only when memory is exhausted; allocate normally so the failure surfaces as Swift's.
      raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }
    #if os(Linux)
    if bytes >= Self.hugePage { _ = madvise(raw, bytes, 14 /* MADV_HUGEPAGE */) }
    #endif
    base = raw!.bindMemory(to: Float.self, capacity: n * stride)
    let s = stride
    let nextColumn = ds.nextActions ?? []
    ds.observations.withUnsafeBufferPointer { o in ds.nextObservations.withUnsafeBufferPointer { no in
      ds.actions.withUnsafeBufferPointer { a in nextColumn.withUnsafeBufferPointer { na in
        for i in 0..<n {
          let row = base + i * s
          (row).update(from: o.baseAddress! + i * od, count: od)
          (row + od).update(from: no.baseAddress! + i * od, count: od)
          (row + 2 * od).update(from: a.baseAddress! + i * ad, count: ad)
          let next = Self.nextAction(ds, i, actions: a.baseAddress!, column: ds.nextActions == nil ? nil : na.baseAddress)
          (row + 2 * od + ad).update(from: next.source, count: ad)
          row[2 * od + 2 * ad] = ds.rewards[i]
          row[2 * od + 2 * ad + 1] = (ds.terminals[i] ? 1 : 0) + (next.known ? 2 : 0)
          for k in (2 * od + 2 * ad + 2)..<s { row[k] = 0 }
          if let rtg = ds.returnsToGo { row[2 * od + 2 * ad + 2] = rtg[i] }
        }
      } }
    } }
  }

  deinit { free(base) }

  /// Row `i`'s next action (`Batch.nextActions`): from the dataset's `nextActions` column when it has one and the
  /// entry is finite, else the next row's action within the episode; at a terminal row, or where neither exists,
  /// the row's own action, marked unknown.
  @inline(__always)
  static func nextAction(_ ds: Dataset, _ i: Int, actions a: UnsafePointer<Float>, column: UnsafePointer<Float>?)
    -> (source: UnsafePointer<Float>, known: Bool) {
    let ad = ds.actionDim
    if ds.terminals[i] { return (a + i * ad, false) }
    if let column {
      let p = column + i * ad
      for k in 0..<ad where !p[k].isFinite { return (a + i * ad, false) }
      return (p, true)
    }
    if i + 1 < ds.count, !ds.timeouts[i] { return (a + (i + 1) * ad, true) }
    return (a + i * ad, false)
  }

  /// Copies the rows `indices` into `batch` rows `offset...`.
  ///
  /// Two passes: the first prefetches every cache line of every requested row (requests the CPU keeps in flight
  /// together, without waiting for any), the second copies the rows out as they arrive.
  public func gather(_ indices: [Int], into batch: inout Batch, offset: Int = 0) {
    let od = observationDim, ad = actionDim, s = stride
    for i in indices {
      let row = base + i * s
      var k = 0
      while k < s { stitch_prefetch(row + k); k += 16 }
    }
    batch.observations.withUnsafeMutableBufferPointer { po in batch.nextObservations.withUnsafeMutableBufferPointer { pno in
      batch.actions.withUnsafeMutableBufferPointer { pa in batch.nextActions.withUnsafeMutableBufferPointer { pna in
        batch.rewards.withUnsafeMutableBufferPointer { pr in batch.terminals.withUnsafeMutableBufferPointer { pt in
          batch.nextActionsKnown.withUnsafeMutableBufferPointer { pk in batch.returnsToGo.withUnsafeMutableBufferPointer { pg in
            let rtgSlot = hasReturnsToGo ? 2 * od + 2 * ad + 2 : -1
            for (k, i) in indices.enumerated() {
              let row = base + i * s, b = offset + k
              Self.copy(po.baseAddress! + b * od, row, od)
              Self.copy(pno.baseAddress! + b * od, row + od, od)
              Self.copy(pa.baseAddress! + b * ad, row + 2 * od, ad)
              Self.copy(pna.baseAddress! + b * ad, row + 2 * od + ad, ad)
              pr[b] = row[2 * od + 2 * ad]
              let flags = row[2 * od + 2 * ad + 1]
              pt[b] = flags == 1 || flags == 3 ? 1 : 0
              pk[b] = flags >= 2 ? 1 : 0
              pg[b] = rtgSlot >= 0 ? row[rtgSlot] : 0
            }
          } }
        } }
      } }
    } }
  }

  /// Copies `n` floats with vector moves and no loop over single elements (a plain element loop becomes a
  /// `memcpy` call, whose fixed cost dominated copies of 3–17 floats).
  @inline(__always) static func copy(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) {
    var j = 0
    while j + 8 <= n {
      UnsafeMutableRawPointer(d + j).storeBytes(of: UnsafeRawPointer(s + j).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
      j += 8
    }
    if j + 4 <= n {
      UnsafeMutableRawPointer(d + j).storeBytes(of: UnsafeRawPointer(s + j).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
      j += 4
    }
    if j + 2 <= n {
      UnsafeMutableRawPointer(d + j).storeBytes(of: UnsafeRawPointer(s + j).loadUnaligned(as: SIMD2<Float>.self), as: SIMD2<Float>.self)
      j += 2
    }
    if j < n { d[j] = s[j] }
  }
}
