//! Reading `f32` arrays out of HDF5 weight files (Keras `.h5` / `.weights.h5`).

use anyhow::{Context, Result};
use hdf5_reader::dataset::Dataset;

/// A dense row-major array as stored in the file.
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

pub fn read_array(ds: &Dataset, what: &str) -> Result<Array> {
    let shape: Vec<usize> = ds.shape().iter().map(|&d| d as usize).collect();
    let mut data = vec![0f32; shape.iter().product()];
    ds.read_into(&mut data).with_context(|| format!("weight `{what}` unreadable"))?;
    Ok(Array { shape, data })
}

/// Keras conv kernel `(kh, kw, in, out)` → burn `(out, in, kh, kw)`, with an optional
/// output-channel permutation `perm[burn_out] = keras_out`. Returns data and burn shape.
pub fn keras_conv_kernel(k: &Array, perm: Option<&[usize]>) -> Result<(Vec<f32>, [usize; 4])> {
    let [kh, kw, cin, cout] = k.shape[..] else { anyhow::bail!("conv kernel of rank {}", k.shape.len()) };
    let mut out = vec![0f32; k.data.len()];
    for o in 0..cout {
        let ko = perm.map_or(o, |p| p[o]);
        for i in 0..cin {
            for y in 0..kh {
                for x in 0..kw {
                    out[((o * cin + i) * kh + y) * kw + x] = k.data[((y * kw + x) * cin + i) * cout + ko];
                }
            }
        }
    }
    Ok((out, [cout, cin, kh, kw]))
}
