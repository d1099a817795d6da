//! The WGSL of one generator layer: a direct "same" convolution with everything that follows it
//! in the model fused into its store — folded BatchNorm (in the weights), bias, PReLU, the
//! residual add, the ×2 pixel shuffle, and for the tail the output activation and pixel map.
//!
//! Each invocation computes one pixel of the layer's input grid for `vectors` × 4 output
//! channels, reading its input once per tap as vec4s of channels (activations are channels-last,
//! padded with a zero border as wide as the widest reader's reach, so no tap is bounds-checked).
//! Weights are `[tap][c_in][c_out]` vec4s over the output channels; all invocations of a
//! workgroup read the same weights at the same time (the workgroup's z is its channel block),
//! which a GPU serves from its cache and an emulator as one scalar load.
//!
//! The shader text is generated per layer shape with its sizes as constants, so that the loops
//! have constant bounds and the indexing folds; the few shapes of a generator make few
//! pipelines.

use std::fmt::Write;

/// Invocations per workgroup along x and y.
pub const WORKGROUP: u32 = 8;

/// Where the residual added after the convolution comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    None,
    /// Another buffer, laid out as the output.
    Buffer,
    /// The output buffer's own values (the running residual sum), read before they are replaced.
    Output,
}

/// What a layer's store does after bias.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Store {
    /// Channels-last into a padded activation buffer: PReLU (`prelu`: slopes are in a buffer),
    /// then the residual. `shuffle` = 2 folds the ×2 pixel shuffle in: each vec4 of output
    /// channels is one channel's 2×2 block of pixels.
    Activation { prelu: bool, skip: Skip, shuffle: u32 },
    /// The tail: `tanh` if set, then `· scale + offset`, three channels into a dense RGB image.
    Pixels { tanh: bool, scale: f32, offset: f32 },
}

/// The shape of one convolution layer as the shader sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerShape {
    /// Input channels in vec4s (3 RGB channels pad to one vec4).
    pub in_vec4: u32,
    /// Output channels of the convolution in vec4s (the tail's 3 pad to one).
    pub out_vec4: u32,
    /// Square kernel side (odd).
    pub k: u32,
    /// Output vec4s each invocation computes; divides `out_vec4`.
    pub vectors: u32,
    /// Horizontally adjacent pixels each invocation computes (sharing its weight loads).
    pub pixels: u32,
    pub store: Store,
}

impl LayerShape {
    /// Workgroups along z: the output channel blocks.
    pub fn channel_blocks(&self) -> u32 {
        self.out_vec4 / self.vectors
    }

    /// WGSL for this layer. Bindings: 0 the sizes (`Dims`), 1 the input, 2 the weights,
    /// 3 the bias, then in order the slopes (if PReLU), the skip buffer (if `Skip::Buffer`),
    /// and the output.
    pub fn wgsl(&self) -> String {
        let Self { in_vec4, out_vec4, k, vectors, store, .. } = *self;
        let mut s = String::new();
        let mut binding = 1;
        let mut bind = |s: &mut String, text: &str| {
            writeln!(s, "@group(0) @binding({binding}) {text};").unwrap();
            binding += 1;
        };
        s.push_str(
            "struct Dims { w: u32, h: u32, in_w: u32, in_off: u32, out_w: u32, out_off: u32, skip_w: u32, skip_off: u32 }\n\
             @group(0) @binding(0) var<uniform> dims: Dims;\n",
        );
        bind(&mut s, "var<storage, read> inp: array<vec4<f32>>");
        bind(&mut s, "var<storage, read> wt: array<vec4<f32>>");
        bind(&mut s, "var<storage, read> bias: array<vec4<f32>>");
        match store {
            Store::Activation { prelu, skip, shuffle } => {
                if prelu {
                    let ty = if shuffle == 1 { "vec4<f32>" } else { "f32" };
                    bind(&mut s, &format!("var<storage, read> slope: array<{ty}>"));
                }
                if skip == Skip::Buffer {
                    bind(&mut s, "var<storage, read> skip: array<vec4<f32>>");
                }
                let ty = if shuffle == 1 { "vec4<f32>" } else { "f32" };
                bind(&mut s, &format!("var<storage, read_write> out: array<{ty}>"));
            }
            Store::Pixels { .. } => bind(&mut s, "var<storage, read_write> out: array<f32>"),
        }
        let px = self.pixels;
        writeln!(
            s,
            "const K: u32 = {k}u;\nconst CI4: u32 = {in_vec4}u;\nconst CO4: u32 = {out_vec4}u;\n\
             @compute @workgroup_size({WORKGROUP}, {WORKGROUP}, 1)\n\
             fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {{\n\
             \x20 let x0 = gid.x * {px}u;\n  let y = gid.y;\n  if (x0 >= dims.w || y >= dims.h) {{ return; }}\n\
             \x20 let cb = wg.z * {vectors}u;"
        )
        .unwrap();
        for p in 0..px {
            for j in 0..vectors {
                writeln!(s, "  var a{p}_{j} = vec4<f32>(0.0);").unwrap();
            }
        }
        // Each tap's weights are loaded once for the invocation's `px` pixels. Pixels past the
        // grid's right edge read the border or the next row, and are never stored.
        s.push_str(
            "  for (var ky = 0u; ky < K; ky++) {\n\
             \x20   let row = (y + ky + dims.in_off) * dims.in_w + x0 + dims.in_off;\n\
             \x20   for (var kx = 0u; kx < K; kx++) {\n\
             \x20     let wb = (ky * K + kx) * CI4 * 4u * CO4 + cb;\n\
             \x20     for (var c = 0u; c < CI4; c++) {\n\
             \x20       let w0 = wb + c * 4u * CO4;\n",
        );
        for j in 0..vectors {
            writeln!(
                s,
                "        let wx{j} = wt[w0 + {j}u];\n        let wy{j} = wt[w0 + CO4 + {j}u];\n\
                 \x20       let wz{j} = wt[w0 + 2u * CO4 + {j}u];\n        let ww{j} = wt[w0 + 3u * CO4 + {j}u];"
            )
            .unwrap();
        }
        for p in 0..px {
            writeln!(s, "        let v{p} = inp[(row + kx + {p}u) * CI4 + c];").unwrap();
            for j in 0..vectors {
                writeln!(s, "        a{p}_{j} += v{p}.x * wx{j} + v{p}.y * wy{j} + v{p}.z * wz{j} + v{p}.w * ww{j};")
                    .unwrap();
            }
        }
        s.push_str("      }\n    }\n  }\n");
        for p in 0..px {
            writeln!(s, "  if (x0 + {p}u < dims.w) {{\n  let x = x0 + {p}u;").unwrap();
            self.store(&mut s, p);
            s.push_str("  }\n");
        }
        s.push_str("}\n");
        s
    }

    /// The store of the invocation's pixel `p` (at `x`, `y`): bias, activation, residual.
    fn store(&self, s: &mut String, p: u32) {
        let Self { out_vec4, vectors, store, .. } = *self;
        match store {
            Store::Activation { prelu, skip, shuffle: 1 } => {
                s.push_str("  let o = ((y + dims.out_off) * dims.out_w + x + dims.out_off) * CO4 + cb;\n");
                if skip == Skip::Buffer {
                    s.push_str("  let sk = ((y + dims.skip_off) * dims.skip_w + x + dims.skip_off) * CO4 + cb;\n");
                }
                for j in 0..vectors {
                    writeln!(s, "  var v{j} = a{p}_{j} + bias[cb + {j}u];").unwrap();
                    if prelu {
                        writeln!(s, "  v{j} = select(v{j} * slope[cb + {j}u], v{j}, v{j} > vec4<f32>(0.0));").unwrap();
                    }
                    match skip {
                        Skip::None => {}
                        Skip::Buffer => writeln!(s, "  v{j} += skip[sk + {j}u];").unwrap(),
                        Skip::Output => writeln!(s, "  v{j} += out[o + {j}u];").unwrap(),
                    }
                    writeln!(s, "  out[o + {j}u] = v{j};").unwrap();
                }
            }
            Store::Activation { prelu, skip, shuffle } => {
                assert_eq!(shuffle, 2, "the shader folds in a ×2 pixel shuffle only");
                assert_eq!(skip, Skip::None, "no residual follows a pixel shuffle in the generator");
                // Conv channel 4c + 2i + j is channel c of output pixel (2y + i, 2x + j); the
                // output has CO4 channels (a quarter of the convolution's 4·CO4).
                s.push_str("  let q = (2u * y + dims.out_off) * dims.out_w + 2u * x + dims.out_off;\n");
                for j in 0..vectors {
                    writeln!(s, "  let c{j} = cb + {j}u;\n  var v{j} = a{p}_{j} + bias[c{j}];").unwrap();
                    if prelu {
                        writeln!(s, "  v{j} = select(v{j} * slope[c{j}], v{j}, v{j} > vec4<f32>(0.0));").unwrap();
                    }
                    writeln!(
                        s,
                        "  out[q * CO4 + c{j}] = v{j}.x;\n  out[(q + 1u) * CO4 + c{j}] = v{j}.y;\n\
                         \x20 out[(q + dims.out_w) * CO4 + c{j}] = v{j}.z;\n  out[(q + dims.out_w + 1u) * CO4 + c{j}] = v{j}.w;"
                    )
                    .unwrap();
                }
            }
            Store::Pixels { tanh, scale, offset } => {
                assert_eq!((out_vec4, vectors), (1, 1), "the tail has three outputs in one vec4");
                writeln!(s, "  var v = a{p}_0 + bias[0];").unwrap();
                if tanh {
                    s.push_str("  v = tanh(v);\n");
                }
                writeln!(s, "  v = v * {scale:?} + {offset:?};").unwrap();
                s.push_str(
                    "  let o = (y * dims.w + x) * 3u;\n  out[o] = v.x;\n  out[o + 1u] = v.y;\n  out[o + 2u] = v.z;\n",
                );
            }
        }
    }
}
