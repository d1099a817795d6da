/// Errors of the shared library; each says what was wrong in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Image(String),
    #[error("{0}")]
    Shape(String),
    #[error("{0}")]
    Weights(String),
    #[error("{0}")]
    Config(String),
}
