//! The buffers and bind groups of one window size: every activation the generator makes,
//! channels-last with a zero border as wide as its widest reader's reach (written once when the
//! buffer is created, never again: only interiors are stored to), and the layer dispatches in
//! order, recorded into one command buffer per window.

use super::pack::PackedGenerator;
use super::shader::{Skip, Store, WORKGROUP};
use super::{Layer, upload};
use crate::image::ImageF32;

/// A channels-last activation buffer with its geometry.
struct Activation {
    buffer: wgpu::Buffer,
    /// Padded width in pixels.
    width: usize,
    pad: usize,
}

/// Geometry of the activations of a `w`×`h` window: (width, height, channels, pad) per buffer
/// in the order [input, head, x, y, upsample outputs…], and the RGB output's floats.
fn geometry(g: &PackedGenerator, w: usize, h: usize) -> (Vec<(usize, usize, usize, usize)>, usize) {
    let half = |k: u32| (k / 2) as usize;
    let f = g.filters;
    let trunk_readers = g.blocks.iter().flat_map(|(a, b)| [a, b]).chain([&g.trunk]).chain(g.upsample.first());
    let trunk_pad = trunk_readers.map(|l| half(l.shape.k)).max().unwrap_or(0);
    let mut buffers = vec![(w, h, 4, half(g.head.shape.k))];
    buffers.extend([(w, h, f, trunk_pad); 3]);
    for (stage, _) in g.upsample.iter().enumerate() {
        let next_k = g.upsample.get(stage + 1).map_or(g.tail.shape.k, |l| l.shape.k);
        let s = 2 << stage;
        buffers.push((w * s, h * s, f, half(next_k)));
    }
    let s = g.scale();
    (buffers, w * s * h * s * 3)
}

fn bytes((w, h, c, pad): (usize, usize, usize, usize)) -> u64 {
    ((w + 2 * pad) * (h + 2 * pad) * c * 4) as u64
}

/// One layer's dispatch: its bind group and workgroup counts.
struct Dispatch {
    layer: usize,
    bind_group: wgpu::BindGroup,
    groups: [u32; 3],
}

pub(super) struct Plan {
    width: usize,
    height: usize,
    activations: Vec<Activation>,
    output: wgpu::Buffer,
    staging: wgpu::Buffer,
    output_bytes: u64,
    dispatches: Vec<Dispatch>,
}

impl Plan {
    /// Bytes of the largest buffer a `w`×`h` window needs.
    pub fn largest_buffer(g: &PackedGenerator, w: usize, h: usize) -> u64 {
        let (buffers, out_floats) = geometry(g, w, h);
        buffers.into_iter().map(bytes).max().unwrap_or(0).max(out_floats as u64 * 4)
    }

    pub fn fits(&self, w: usize, h: usize) -> bool {
        (self.width, self.height) == (w, h)
    }

    pub fn new(device: &wgpu::Device, g: &PackedGenerator, layers: &[Layer], w: usize, h: usize) -> Self {
        let (geometry, out_floats) = geometry(g, w, h);
        let activations: Vec<Activation> = geometry
            .iter()
            .map(|&(bw, bh, c, pad)| Activation {
                buffer: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("activation"),
                    size: bytes((bw, bh, c, pad)),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
                width: bw + 2 * pad,
                pad,
            })
            .collect();
        let output_bytes = out_floats as u64 * 4;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: output_bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        let output = buffer("output", wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
        let staging = buffer("staging", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);

        // Which buffer each layer reads and writes: input 0, head 1, x 2, y 3, upsampling 4….
        // What it adds (`Skip::Buffer`) is always the head's output (the first block's and the
        // trunk's long skip); its shuffle is in its store.
        const INPUT: usize = 0;
        const HEAD: usize = 1;
        const X: usize = 2;
        const Y: usize = 3;
        let mut steps: Vec<(usize, Option<usize>)> = vec![(INPUT, Some(HEAD))];
        for i in 0..g.blocks.len() {
            steps.push((if i == 0 { HEAD } else { X }, Some(Y)));
            steps.push((Y, Some(X)));
        }
        let body = if g.blocks.is_empty() { HEAD } else { X };
        steps.push((body, Some(Y)));
        let mut features = Y;
        for stage in 0..g.upsample.len() {
            steps.push((features, Some(4 + stage)));
            features = 4 + stage;
        }
        steps.push((features, None)); // the tail, into `output`

        let mut grid = (w, h);
        let dispatches = steps
            .into_iter()
            .zip(g.layers())
            .enumerate()
            .map(|(index, ((source, target), packed))| {
                let (skip, shuffle) = match packed.shape.store {
                    Store::Activation { skip, shuffle, .. } => {
                        ((skip == Skip::Buffer).then_some(HEAD), shuffle as usize)
                    }
                    Store::Pixels { .. } => (None, 1),
                };
                let input = &activations[source];
                let k = packed.shape.k as usize;
                let (out_w, out_off) = target.map_or((0, 0), |t| (activations[t].width, activations[t].pad));
                let (skip_w, skip_off) = skip.map_or((0, 0), |s| (activations[s].width, activations[s].pad));
                let dims = [grid.0, grid.1, input.width, input.pad - k / 2, out_w, out_off, skip_w, skip_off];
                let dims: Vec<u8> = dims.iter().flat_map(|&d| (d as u32).to_le_bytes()).collect();
                let uniform = upload(device, "dims", &dims, wgpu::BufferUsages::UNIFORM);
                let layer = &layers[index];
                let mut resources = vec![uniform.as_entire_binding(), input.buffer.as_entire_binding()];
                resources.extend([layer.weights.as_entire_binding(), layer.bias.as_entire_binding()]);
                if let Some(slope) = &layer.slope {
                    resources.push(slope.as_entire_binding());
                }
                if let Some(s) = skip {
                    resources.push(activations[s].buffer.as_entire_binding());
                }
                resources
                    .push(target.map_or(output.as_entire_binding(), |t| activations[t].buffer.as_entire_binding()));
                let entries: Vec<wgpu::BindGroupEntry> = resources
                    .into_iter()
                    .enumerate()
                    .map(|(binding, resource)| wgpu::BindGroupEntry { binding: binding as u32, resource })
                    .collect();
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("srkd layer"),
                    layout: &layer.pipeline.get_bind_group_layout(0),
                    entries: &entries,
                });
                let groups = [
                    grid.0.div_ceil(WORKGROUP as usize * packed.shape.pixels as usize) as u32,
                    grid.1.div_ceil(WORKGROUP as usize) as u32,
                    packed.shape.channel_blocks(),
                ];
                grid = (grid.0 * shuffle, grid.1 * shuffle);
                Dispatch { layer: index, bind_group, groups }
            })
            .collect();
        Self { width: w, height: h, activations, output, staging, output_bytes, dispatches }
    }

    pub fn input(&self) -> &wgpu::Buffer {
        &self.activations[0].buffer
    }

    /// The window's pixels in the input buffer's layout: mapped to the model's input range,
    /// RGB + a zero lane per pixel, inside the zero border.
    pub fn input_pixels(&self, g: &PackedGenerator, lq: &ImageF32) -> Vec<u8> {
        let Activation { width, pad, .. } = self.activations[0];
        let mut padded = vec![0.0f32; width * (lq.height + 2 * pad) * 4];
        for y in 0..lq.height {
            for x in 0..lq.width {
                let at = ((y + pad) * width + x + pad) * 4;
                for c in 0..3 {
                    padded[at + c] = lq.data[(y * lq.width + x) * 3 + c] * g.in_scale + g.in_offset;
                }
            }
        }
        padded.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Every layer, then the copy of the result to the staging buffer.
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder, layers: &[Layer]) {
        {
            let mut pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("srkd"), timestamp_writes: None });
            for d in &self.dispatches {
                pass.set_pipeline(&layers[d.layer].pipeline);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(d.groups[0], d.groups[1], d.groups[2]);
            }
        }
        encoder.copy_buffer_to_buffer(&self.output, 0, &self.staging, 0, self.output_bytes);
    }

    /// The output's floats, once the GPU has written them.
    pub async fn read_back(&self, device: &wgpu::Device) -> Result<Vec<f32>, String> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        self.staging.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        // Natively the work completes here; in a browser this returns at once and the callback
        // comes from the event loop.
        device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| e.to_string())?;
        receiver.await.map_err(|_| "the read-back was dropped".to_string())?.map_err(|e| e.to_string())?;
        let floats = {
            let view = self.staging.slice(..).get_mapped_range().map_err(|e| e.to_string())?;
            view.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        };
        self.staging.unmap();
        Ok(floats)
    }
}
