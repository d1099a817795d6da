//! Errors of the shared library: one variant per thing that can be wrong, with the values a
//! caller needs, each displayed in words a user can act on. Callers add which file it was.

/// A width × height in pixels.
pub type Size = (usize, usize);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Images.
    #[error("empty file")]
    EmptyImage,
    #[error("not a recognised image format")]
    UnknownImageFormat,
    #[error("{reason}")]
    Decode { reason: String },
    #[error("image has zero size ({}×{})", .size.0, .size.1)]
    ZeroSizeImage { size: Size },
    #[error("cannot build a {}×{}×{channels} image", .size.0, .size.1)]
    BadSamples { size: Size, channels: usize },
    #[error("{reason}")]
    Encode { reason: String },
    #[error("{name}: write .png or .jpg (.jpeg)")]
    OutputFormat { name: String },
    #[error("JPEG quality {quality} is outside 1–100")]
    JpegQuality { quality: u8 },
    #[error("JPEG cannot store transparency; write a PNG to keep it")]
    JpegAlpha,
    #[error("output size: {reason}")]
    OutputSize { reason: String },

    // Metrics.
    #[error("result is {}×{} but ground truth is {}×{}", .result.0, .result.1, .truth.0, .truth.1)]
    SizeMismatch { result: Size, truth: Size },
    #[error("{}×{} is too small to shave {shave} pixels", .size.0, .size.1)]
    TooSmallToShave { size: Size, shave: usize },
    #[error("{}×{} after shaving is smaller than the SSIM window", .size.0, .size.1)]
    SmallerThanSsimWindow { size: Size },
    #[error("{}×{} is too small for NIQE (needs at least two {block}×{block} blocks)", .size.0, .size.1)]
    TooSmallForNiqe { size: Size, block: usize },
    #[error("NIQE is undefined for this image: too few blocks with structure (flat or nearly flat content)")]
    NiqeUndefined,
    #[error("NIQE covariance: {reason}")]
    NiqeCovariance { reason: String },

    // Tensors.
    #[error("expected a rank-4 image tensor, got {dims:?}")]
    TensorRank { dims: Vec<usize> },
    #[error("expected a batch of one image, got {batch}")]
    TensorBatch { batch: usize },
    #[error("unreadable tensor data: {reason}")]
    TensorData { reason: String },
    #[error("reading the result from the device failed: {reason}")]
    DeviceRead { reason: String },

    // Weights.
    #[error("cannot serialise weights: {reason}")]
    SerialiseWeights { reason: String },
    #[error("not a burnpack file ({reason})")]
    NotBurnpack { reason: String },
    #[error("burnpack file does not hold an srkd generator (no `srkd.kind = generator/1` metadata)")]
    NotAGenerator,
    #[error("generator pack has no architecture metadata")]
    NoArchitecture,
    #[error("unreadable generator architecture: {reason}")]
    UnreadableArchitecture { reason: String },
    #[error("invalid generator architecture: {reason}")]
    InvalidArchitecture { reason: String },
    #[error("corrupt weights: {reason}")]
    CorruptWeights { reason: String },
    #[error("weights do not fit the stored architecture: {reason}")]
    WeightsDoNotFit { reason: String },

    // Rating studies. `file` names the study or rating file.
    #[error("{file}: not a study file ({reason})")]
    NotAStudy { file: String, reason: String },
    #[error("{file}: {reason}")]
    InvalidStudy { file: String, reason: String },
    #[error("{file}: not a rating file ({reason})")]
    NotARatingFile { file: String, reason: String },
    #[error("{file}: the rater id is empty")]
    EmptyRater { file: String },
    #[error("{file}: score {score} for {image} / {method} is outside 1–5")]
    ScoreOutOfRange { file: String, image: String, method: String, score: u8 },
    #[error("{file}: {image} / {method} is rated twice")]
    RatedTwice { file: String, image: String, method: String },
    #[error("{file}: belongs to study `{found}`, not `{expected}`")]
    OtherStudy { file: String, found: String, expected: String },
    #[error("{file}: rater `{rater}` already comes from {first}")]
    DuplicateRater { file: String, rater: String, first: String },
    #[error("no rating files")]
    NoRatings,
    #[error("no rater can be scored: {}", .excluded.join("; "))]
    NoScorableRater { excluded: Vec<String> },
}
