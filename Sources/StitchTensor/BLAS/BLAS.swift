import COpenBLAS

/// The BLAS library Stitch's matrix products run on (OpenBLAS through CBLAS).
///
/// Threading model: Stitch sets OpenBLAS to one thread at start-up (`BLAS.threads = 1`) because products of
/// MLP size (256×256 and smaller) lose speed on a second OpenBLAS thread on these machines (../shared/STACK.md);
/// the second core is used for independent work instead (other networks, ensemble members, seeds, evaluation).
public enum BLAS {
  /// The number of threads OpenBLAS uses for one product.
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(max(1, newValue))) }
  }

  /// The CPU kernel OpenBLAS picked at load time (e.g. "Cooperlake", "SkylakeX").
  public static var coreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }

  /// OpenBLAS's build configuration string (version, threading, core).
  public static var configuration: String {
    guard let text = openblas_get_config() else { return "unknown" }
    return String(cString: text)
  }
}
