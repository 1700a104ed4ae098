/// An n-dimensional array of Float32 in row-major contiguous storage, with value semantics (copy-on-write)
/// and reverse-mode automatic differentiation.
///
/// Operations on tensors compute eagerly. While a gradient is being taken (`valueWithGradient(at:_:)`), every
/// operation that involves a parameter records itself on the current thread's `Tape`; outside of that, nothing is
/// recorded and operations cost only their arithmetic (no-grad evaluation is the default).
///
/// ```swift
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = (x * 2).relu().sum(axis: 1)        // shape [2]
/// ```
public struct Tensor: @unchecked Sendable {
  /// The extent of each dimension; `[]` is a scalar.
  public private(set) var shape: [Int]
  var storage: TensorStorage
  /// The node of this value on the current tape (nil when not recorded).
  var node: TapeNodeID?

  /// A tensor that adopts `storage` (no copy).
  init(shape: [Int], storage: TensorStorage, node: TapeNodeID? = nil) {
    self.shape = shape
    self.storage = storage
    self.node = node
  }

  /// A tensor of the given shape whose elements are uninitialised (kernels fill them).
  init(uninitializedShape shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(uninitializedCount: Tensor.count(of: shape)))
  }

  /// A tensor of `shape` holding `scalars` in row-major order.
  /// - Precondition: `scalars.count` equals the product of `shape`.
  public init(shape: [Int], scalars: [Float]) {
    precondition(scalars.count == Tensor.count(of: shape),
                 "Tensor(shape: \(shape)) needs \(Tensor.count(of: shape)) scalars, got \(scalars.count)")
    self.init(uninitializedShape: shape)
    scalars.withUnsafeBufferPointer { src in
      if !src.isEmpty { storage.buffer.baseAddress!.update(from: src.baseAddress!, count: src.count) }
    }
  }

  /// A tensor of `shape` with every element equal to `value`.
  public init(repeating value: Float, shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(count: Tensor.count(of: shape), repeating: value))
  }

  /// A rank-0 tensor holding `value`.
  public init(_ value: Float) { self.init(repeating: value, shape: []) }

  /// A rank-1 tensor holding `scalars`.
  public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

  /// Zeros of the given shape.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
  /// Ones of the given shape.
  public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

  /// The number of elements.
  public var count: Int { storage.count }
  /// The number of dimensions.
  public var rank: Int { shape.count }

  /// The elements in row-major order (a copy).
  public var scalars: [Float] { Array(storage.buffer) }

  /// The single element of a one-element tensor (a loss, a mean).
  public var scalar: Float {
    precondition(count == 1, "Tensor.scalar needs one element; shape is \(shape)")
    return storage.buffer[0]
  }

  /// Element access by flat row-major index (for tests and small glue code, not for kernels).
  public subscript(flat index: Int) -> Float {
    get { storage.buffer[index] }
    set {
      makeUnique()
      storage.buffer[index] = newValue
    }
  }

  /// Calls `body` with read access to the elements.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(storage.buffer))
  }

  /// Calls `body` with write access to the elements, copying first if the storage is shared (copy-on-write).
  /// Writing through this pointer is not recorded on a tape: use it for data loading and optimizer updates.
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    makeUnique()
    return try body(storage.buffer)
  }

  /// Copies the storage if another tensor shares it.
  public mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(copying: storage) }
  }

  /// The same values with a new shape of equal element count (no copy). Differentiable.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var shape = newShape
    if let i = shape.firstIndex(of: -1) {
      let known = shape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
      shape[i] = known == 0 ? 0 : count / known
    }
    guard Tensor.count(of: shape) == count else {
      return Tape.fail("reshaped: cannot view shape \(self.shape) (\(count) elements) as \(newShape)", shape: newShape)
    }
    let out = Tensor(shape: shape, storage: storage)
    let inShape = self.shape
    return Tape.record(out, [self]) { g, _ in [g.reshaped(inShape)] }
  }

  /// This value cut off from the tape: gradients do not flow through it (stop-gradient).
  public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

  /// The number of elements of a shape.
  public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
  }
}

extension Tensor {
  /// Exact equality of shape and elements (bitwise for non-NaN values); for tests and determinism checks.
  public func isIdentical(to other: Tensor) -> Bool {
    shape == other.shape && scalars.elementsEqual(other.scalars) { $0.bitPattern == $1.bitPattern }
  }
}
