/// Weight initialisations beyond `nn.Linear`'s default, as PyTorch's `torch.nn.init` defines them, for
/// reference implementations that ask for them (CORL's CQL: orthogonal critics, a small Xavier output layer).
public enum Initializer {
  /// `torch.nn.init.orthogonal_(W, gain)` (Saxe et al. 2014, arXiv 1312.6120): a `[rows, cols]` matrix with
  /// orthonormal rows (rows ≤ cols) or columns (rows > cols), times `gain`. As PyTorch: draw N(0, 1) of the
  /// shape, transpose when rows < cols, take the QR decomposition, multiply Q's columns by the signs of R's
  /// diagonal (so the distribution is uniform over orthogonal matrices, Mezzadri 2007), transpose back.
  /// The QR runs in Double by modified Gram–Schmidt with one re-orthogonalisation pass.
  public static func orthogonal(rows: Int, cols: Int, gain: Float, using rng: inout RandomStream) -> Tensor {
    precondition(rows > 0 && cols > 0, "orthogonal initialisation needs a non-empty matrix")
    let drawn = Tensor.normal([rows, cols], using: &rng).scalars.map(Double.init)
    // Work on A = [m, n] with m ≥ n (the transpose when rows < cols); its n columns get orthonormalised.
    let transposed = rows < cols
    let (m, n) = transposed ? (cols, rows) : (rows, cols)
    var a = [Double](repeating: 0, count: m * n)  // column-major: column j at a[j*m ..< (j+1)*m]
    for i in 0..<rows { for j in 0..<cols {
      if transposed { a[i * m + j] = drawn[i * cols + j] } else { a[j * m + i] = drawn[i * cols + j] }
    } }
    for j in 0..<n {
      var rjj = 0.0
      for _ in 0..<2 {  // Gram–Schmidt twice ("twice is enough", Giraud et al. 2005)
        for k in 0..<j {
          var dot = 0.0
          for i in 0..<m { dot += a[k * m + i] * a[j * m + i] }
          for i in 0..<m { a[j * m + i] -= dot * a[k * m + i] }
        }
      }
      for i in 0..<m { rjj += a[j * m + i] * a[j * m + i] }
      rjj = rjj.squareRoot()
      // R's diagonal in the classical QR of the drawn matrix is the projection of column j on q_j; its sign is
      // that of ⟨a_j(original), q_j⟩, which Gram–Schmidt makes positive: Q·sign(diag R) = Q here.
      for i in 0..<m { a[j * m + i] /= rjj }
    }
    var out = [Float](repeating: 0, count: rows * cols)
    for i in 0..<rows { for j in 0..<cols {
      out[i * cols + j] = gain * Float(transposed ? a[i * m + j] : a[j * m + i])
    } }
    return Tensor(shape: [rows, cols], scalars: out)
  }

  /// `torch.nn.init.xavier_uniform_(W, gain)` (Glorot & Bengio 2010): U(−b, b) with
  /// b = gain·√(6 / (fan_in + fan_out)) for a `[fan_out, fan_in]` weight.
  public static func xavierUniform(rows: Int, cols: Int, gain: Float, using rng: inout RandomStream) -> Tensor {
    let bound = gain * (6 / Float(rows + cols)).squareRoot()
    return Tensor.uniform([rows, cols], in: -bound...bound, using: &rng)
  }
}
