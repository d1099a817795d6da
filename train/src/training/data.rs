//! Training data: HR photos from a folder, LR made once per image with the MATLAB-compatible
//! bicubic and kept in memory, random aligned HR/LR crops with flips and 90° rotations.
//!
//! Batch `k` is a pure function of `(seed, k)`, so a resumed run sees exactly the batches an
//! uninterrupted one would, and worker threads can build batches ahead in any order.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use srkd_core::image::{ImageF32, decode, degrade};
use srkd_core::model::{Generator, GeneratorConfig};

use crate::evaluation::collect_images;
use crate::fsio;
use crate::inference::upscale_rgb;

/// One training image: HR cropped to a multiple of the scale, and its LR, as 8-bit RGB; and,
/// once [`TrainingImages::add_teacher_targets`] ran, the teacher's ×scale result of the whole
/// LR, laid out as the HR.
struct Pair {
    lq_w: usize,
    lq_h: usize,
    hr: Vec<u8>,
    lq: Vec<u8>,
    teacher_sr: Option<Vec<u8>>,
}

pub struct TrainingImages {
    pairs: Vec<Pair>,
    pub scale: usize,
}

impl TrainingImages {
    /// Load every image of `dir` that is at least one HR crop in size.
    pub fn load(dir: &Path, scale: usize, hr_crop: usize) -> Result<Self> {
        if !dir.is_dir() {
            bail!(
                "{}: training data folder not found; scripts/fetch-train-data.sh fetches the default photos \
                 into data/train, or pass --data DIR (any folder of HR images, DIV2K as is)",
                dir.display()
            );
        }
        let files = collect_images(&[dir.to_path_buf()])?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len());
        let chunks: Vec<&[PathBuf]> = files.chunks(files.len().div_ceil(threads)).collect();
        let loaded: Vec<Result<Vec<Option<Pair>>>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|chunk| s.spawn(move || chunk.iter().map(|p| load_pair(p, scale, hr_crop)).collect()))
                .collect();
            handles.into_iter().map(|h| h.join().expect("image loader thread panicked")).collect()
        });
        let mut pairs = Vec::new();
        for result in loaded {
            pairs.extend(result?.into_iter().flatten());
        }
        if pairs.is_empty() {
            bail!("{}: no image is at least {hr_crop}×{hr_crop} pixels", dir.display());
        }
        Ok(Self { pairs, scale })
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// LR pixels of all the images together.
    pub fn lq_pixels(&self) -> usize {
        self.pairs.iter().map(|p| p.lq_w * p.lq_h).sum()
    }

    /// Runs `teacher` once on each whole LR image (in tiles that overlap by its receptive field,
    /// so the tiles do not show) and keeps the result, rounded to 8 bits as the HR is, so that
    /// every batch from now on carries the teacher's output for its crops (`Batch::teacher_sr`)
    /// instead of the step running the teacher on them. Each crop's target then sees the whole
    /// picture around it, as the teacher would at inference, rather than the crop's zero padding.
    pub fn add_teacher_targets(
        &mut self,
        teacher: &Generator,
        config: &GeneratorConfig,
        device: &Device,
        mut on_image: impl FnMut(usize, usize),
    ) -> Result<()> {
        if config.scale != self.scale {
            bail!("the teacher upscales ×{}, the training data is ×{}", config.scale, self.scale);
        }
        let count = self.pairs.len();
        for (i, pair) in self.pairs.iter_mut().enumerate() {
            let lq = ImageF32::from_u8(pair.lq_w, pair.lq_h, 3, &pair.lq);
            pair.teacher_sr = Some(upscale_rgb::<u8>(teacher, config, &lq, TEACHER_TILE, device, |_, _| {})?);
            on_image(i + 1, count);
        }
        Ok(())
    }
}

/// LR tile side for the teacher's whole-image pass: the SRResNet teacher's tiles overlap by its
/// receptive radius (≈ 40 px a side), so a tile this big computes 1.5× its pixels (2× at 192),
/// while its largest activation (the second upsampling conv's) stays near 600 MB.
const TEACHER_TILE: usize = 320;

fn load_pair(path: &Path, scale: usize, hr_crop: usize) -> Result<Option<Pair>> {
    let image = decode(&fsio::read(path)?).with_context(|| path.display().to_string())?;
    if image.rgb.width < hr_crop || image.rgb.height < hr_crop {
        return Ok(None);
    }
    let (hr, lq) = degrade(&image.rgb, scale);
    Ok(Some(Pair { lq_w: lq.width, lq_h: lq.height, hr: hr.to_u8(), lq: lq.to_u8(), teacher_sr: None }))
}

/// A batch as planar `f32` (0–255): `hr` is `[n, 3, P, P]`, `lq` is `[n, 3, P/s, P/s]`, and
/// `teacher_sr`, when the images carry teacher targets, is shaped as `hr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub n: usize,
    pub hr_size: usize,
    pub lq_size: usize,
    pub hr: Vec<f32>,
    pub lq: Vec<f32>,
    pub teacher_sr: Option<Vec<f32>>,
}

impl Batch {
    /// `parts` consecutive slices (data parallelism), sizes differing by at most one, the larger
    /// first; each slice has at least one sample when `parts <= n`.
    pub fn split(&self, parts: usize) -> Vec<Batch> {
        let (hr_len, lq_len) = (3 * self.hr_size * self.hr_size, 3 * self.lq_size * self.lq_size);
        let mut start = 0;
        (0..parts)
            .map(|i| {
                let n = self.n / parts + usize::from(i < self.n % parts);
                let slice = Batch {
                    n,
                    hr_size: self.hr_size,
                    lq_size: self.lq_size,
                    hr: self.hr[start * hr_len..(start + n) * hr_len].to_vec(),
                    lq: self.lq[start * lq_len..(start + n) * lq_len].to_vec(),
                    teacher_sr: self.teacher_sr.as_ref().map(|t| t[start * hr_len..(start + n) * hr_len].to_vec()),
                };
                start += n;
                slice
            })
            .collect()
    }
}

/// Copy a `size × size` window of an interleaved RGB image at `(x, y)`, applying the
/// augmentation (`transpose` then flips), into planar `dst`.
fn crop_into(src: &[u8], width: usize, x: usize, y: usize, size: usize, aug: (bool, bool, bool), dst: &mut [f32]) {
    let (transpose, flip_h, flip_v) = aug;
    let plane = size * size;
    for r in 0..size {
        for c in 0..size {
            let (mut sr, mut sc) = if transpose { (c, r) } else { (r, c) };
            if flip_h {
                sc = size - 1 - sc;
            }
            if flip_v {
                sr = size - 1 - sr;
            }
            let s = ((y + sr) * width + x + sc) * 3;
            for ch in 0..3 {
                dst[ch * plane + r * size + c] = src[s + ch] as f32;
            }
        }
    }
}

/// The batch of training step `step` (deterministic in `seed` and `step`).
pub fn make_batch(images: &TrainingImages, seed: u64, step: usize, n: usize, hr_size: usize) -> Batch {
    let s = images.scale;
    let lq_size = hr_size / s;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut hr = vec![0f32; n * 3 * hr_size * hr_size];
    let mut lq = vec![0f32; n * 3 * lq_size * lq_size];
    let with_targets = images.pairs.iter().all(|p| p.teacher_sr.is_some());
    let mut teacher_sr = with_targets.then(|| vec![0f32; n * 3 * hr_size * hr_size]);
    for i in 0..n {
        let pair = &images.pairs[rng.random_range(0..images.pairs.len())];
        let x = rng.random_range(0..=pair.lq_w - lq_size);
        let y = rng.random_range(0..=pair.lq_h - lq_size);
        let aug = (rng.random::<bool>(), rng.random::<bool>(), rng.random::<bool>());
        crop_into(
            &pair.lq,
            pair.lq_w,
            x,
            y,
            lq_size,
            aug,
            &mut lq[i * 3 * lq_size * lq_size..][..3 * lq_size * lq_size],
        );
        crop_into(
            &pair.hr,
            pair.lq_w * s,
            x * s,
            y * s,
            hr_size,
            aug,
            &mut hr[i * 3 * hr_size * hr_size..][..3 * hr_size * hr_size],
        );
        if let (Some(dst), Some(src)) = (teacher_sr.as_mut(), pair.teacher_sr.as_ref()) {
            crop_into(
                src,
                pair.lq_w * s,
                x * s,
                y * s,
                hr_size,
                aug,
                &mut dst[i * 3 * hr_size * hr_size..][..3 * hr_size * hr_size],
            );
        }
    }
    Batch { n, hr_size, lq_size, hr, lq, teacher_sr }
}

/// Builds batches ahead of the training loop on worker threads (CPU only: no tensors), and
/// hands them out in step order.
pub struct BatchLoader {
    receivers: Vec<Receiver<Batch>>,
    next: usize,
}

impl BatchLoader {
    pub fn start(
        images: Arc<TrainingImages>,
        seed: u64,
        first_step: usize,
        end_step: usize,
        n: usize,
        hr_size: usize,
        workers: usize,
    ) -> Self {
        let workers = workers.max(1);
        let mut receivers = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx): (SyncSender<Batch>, Receiver<Batch>) = sync_channel(2);
            let images = images.clone();
            std::thread::spawn(move || {
                let mut step = first_step + w;
                while step < end_step {
                    if tx.send(make_batch(&images, seed, step, n, hr_size)).is_err() {
                        return; // the trainer stopped
                    }
                    step += workers;
                }
            });
            receivers.push(rx);
        }
        Self { receivers, next: 0 }
    }

    /// The next batch in step order; `None` once the range is exhausted.
    pub fn next_batch(&mut self) -> Option<Batch> {
        let k = self.receivers.len();
        let batch = self.receivers[self.next % k].recv().ok();
        self.next += 1;
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::tensor::{Tensor, TensorData};

    fn synthetic(scale: usize) -> TrainingImages {
        let (w, h) = (40, 32);
        let img = ImageF32::new(w, h, 3, (0..w * h * 3).map(|i| ((i * 31) % 256) as f32).collect());
        let (hr, lq) = degrade(&img, scale);
        let pair = Pair { lq_w: lq.width, lq_h: lq.height, hr: hr.to_u8(), lq: lq.to_u8(), teacher_sr: None };
        TrainingImages { pairs: vec![pair], scale }
    }

    #[test]
    fn batches_are_deterministic_and_aligned() {
        let images = Arc::new(synthetic(4));
        let a = make_batch(&images, 7, 3, 4, 16);
        assert_eq!(a, make_batch(&images, 7, 3, 4, 16));
        assert_ne!(a, make_batch(&images, 7, 4, 4, 16));
        assert_eq!((a.hr.len(), a.lq.len()), (4 * 3 * 256, 4 * 3 * 16));
        // Workers deliver exactly the sequential batches, in order.
        let mut loader = BatchLoader::start(images.clone(), 7, 2, 9, 4, 16, 3);
        for step in 2..9 {
            assert_eq!(loader.next_batch().unwrap(), make_batch(&images, 7, step, 4, 16));
        }
        assert!(loader.next_batch().is_none());
    }

    #[test]
    fn whole_image_teacher_targets_match_the_teacher_on_the_crop_away_from_its_border() {
        // A crop's target comes from the teacher's pass over the whole image; far enough inside
        // the crop (its receptive radius), the teacher on the crop alone sees the same pixels,
        // so the two agree up to the targets' 8-bit rounding.
        let device = Device::flex();
        let config = GeneratorConfig::student().with_blocks(1);
        device.seed(5);
        let teacher = config.init(&device).valid();
        let (w, h) = (224, 192);
        let pixels = (0..w * h * 3).map(|i| (((i / 3) % w * 7 + (i / 3) / w * 3 + i % 3 * 50) % 256) as f32).collect();
        let (hr, lq) = degrade(&ImageF32::new(w, h, 3, pixels), 4);
        let pair = Pair { lq_w: lq.width, lq_h: lq.height, hr: hr.to_u8(), lq: lq.to_u8(), teacher_sr: None };
        let mut images = TrainingImages { pairs: vec![pair], scale: 4 };
        assert!(make_batch(&images, 1, 0, 2, 64).teacher_sr.is_none());
        let mut reported = Vec::new();
        images.add_teacher_targets(&teacher, &config, &device, |done, of| reported.push((done, of))).unwrap();
        assert_eq!(reported, [(1, 1)]);

        let pair = &images.pairs[0];
        let (crop, x, y, plain) = (128, 13, 9, (false, false, false));
        let mut lq_crop = vec![0f32; 3 * (crop / 4) * (crop / 4)];
        crop_into(&pair.lq, pair.lq_w, x, y, crop / 4, plain, &mut lq_crop);
        let mut target = vec![0f32; 3 * crop * crop];
        crop_into(pair.teacher_sr.as_ref().unwrap(), pair.lq_w * 4, x * 4, y * 4, crop, plain, &mut target);
        let lq_tensor = Tensor::<4>::from_data(TensorData::new(lq_crop, [1, 3, crop / 4, crop / 4]), &device);
        let on_crop = teacher.forward(lq_tensor).into_data().try_to_vec::<f32>().unwrap();
        let inner = 4 * config.receptive_radius();
        let (mut compared, mut worst) = (0, 0f32);
        for c in 0..3 {
            for r in inner..crop - inner {
                for col in inner..crop - inner {
                    let k = (c * crop + r) * crop + col;
                    worst = worst.max((target[k] - on_crop[k].clamp(0.0, 255.0)).abs());
                    compared += 1;
                }
            }
        }
        assert!(compared > 0 && worst <= 0.51, "largest difference {worst} over {compared} samples");
        assert!(target.iter().any(|&v| v != target[0]), "a constant target tests nothing");
    }

    #[test]
    fn teacher_targets_are_cropped_and_augmented_as_the_hr() {
        let mut images = synthetic(4);
        images.pairs[0].teacher_sr = Some(images.pairs[0].hr.clone());
        for step in 0..8 {
            let batch = make_batch(&images, 3, step, 4, 16);
            assert_eq!(batch.teacher_sr.as_ref(), Some(&batch.hr));
            // Split for data parallelism, each slice keeps its own samples' targets.
            for slice in batch.split(3) {
                assert_eq!(slice.teacher_sr.as_ref(), Some(&slice.hr));
            }
        }
    }

    #[test]
    fn augmentation_moves_hr_and_lr_together() {
        // Transposition and flips must map the same LR pixel to the same HR block.
        let src: Vec<u8> = (0..4 * 4 * 3).map(|v| v as u8).collect();
        let mut plain = vec![0f32; 3 * 16];
        let mut t = vec![0f32; 3 * 16];
        crop_into(&src, 4, 0, 0, 4, (false, false, false), &mut plain);
        crop_into(&src, 4, 0, 0, 4, (true, true, false), &mut t);
        // transpose then horizontal flip = a 90° rotation: t[r][c] = plain[c][3 - r].
        for r in 0..4 {
            for c in 0..4 {
                assert_eq!(t[r * 4 + c], plain[c * 4 + 3 - r]);
            }
        }
    }
}
