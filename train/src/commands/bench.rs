use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};
use burn::optim::AdamConfig;

use crate::backend::Backend;
use crate::training::config::TrainConfig;
use crate::training::data::{TrainingImages, make_batch};
use crate::training::schedule::{LossWeights, Network, Phase, Schedule, TeacherRole, DEFAULT_KD_WEIGHT};
use crate::training::trainer::{batch_tensors, load_frozen, step};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchWhat {
    /// Steps/s of the student G2G+AL training step (teacher forward, content + KD +
    /// adversarial generator losses, discriminator step) on each backend.
    Train {
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Backend::Cpu, Backend::Wgpu])]
        backends: Vec<Backend>,
        #[arg(long, default_value_t = 16)]
        batch_size: usize,
        #[arg(long, default_value_t = 96)]
        hr_crop: usize,
        /// Timed steps per backend (after one untimed warm-up step).
        #[arg(long, default_value_t = 3)]
        steps: usize,
        /// HR images the crops come from.
        #[arg(long, default_value = "data/eval")]
        data: std::path::PathBuf,
    },
}

pub fn run(args: BenchArgs) -> Result<()> {
    let BenchWhat::Train { backends, batch_size, hr_crop, steps, data } = args.what;
    let config = TrainConfig { batch_size, hr_crop, data, ..TrainConfig::default() };
    let losses = LossWeights { pixel: 0.0, content: 1.0, kd: DEFAULT_KD_WEIGHT, adversarial: 1e-3 };
    let phase = Phase { name: "g2g+al step".into(), discriminator: true, losses, steps, lr: 1e-4, lr_decay_every: 0, lr_decay: 0.5 };
    let schedule = Schedule { name: "bench".into(), network: Network::Student, teacher: Some(TeacherRole::ContentG), init_from_srresnet: false, phases: vec![phase.clone()] };
    let images = Arc::new(TrainingImages::load(&config.data, config.student.scale, hr_crop)?);
    println!("student G2G+AL training step, batch {batch_size}, {hr_crop}² HR crops, {steps} timed steps after 1 warm-up");
    println!("{:<8} {:>10} {:>10} {:>12}", "backend", "s/step", "steps/s", "images/s");
    for backend in backends {
        let device = match backend.device() {
            Ok(d) => d,
            Err(e) => {
                println!("{:<8} unavailable: {e:#}", backend.name());
                continue;
            }
        };
        let ad = device.clone().autodiff();
        let frozen = load_frozen(&config, &schedule, &device, &ad)?;
        let discriminator = config.discriminator.clone().with_input_size(hr_crop);
        discriminator.validate().map_err(|e| anyhow!("{e}"))?;
        let mut g = config.student.init(&ad);
        let mut d = Some(discriminator.init(&ad));
        let (mut og, mut od) = (AdamConfig::new().init(), AdamConfig::new().init());
        let mut elapsed = 0.0;
        for i in 0..=steps {
            let batch = make_batch(&images, 0, i, batch_size, hr_crop);
            let start = Instant::now();
            let (hr, lr) = batch_tensors(&batch, &device);
            // Reading the losses back (inside `step`) synchronises the device, so the time
            // covers the whole step.
            let (_, g_next, d_next) = step(&phase, &frozen, g, d, &mut og, Some(&mut od), phase.lr, hr, lr)?;
            g = g_next;
            d = d_next;
            if i > 0 {
                elapsed += start.elapsed().as_secs_f64();
            }
        }
        let per_step = elapsed / steps.max(1) as f64;
        println!("{:<8} {:>10.3} {:>10.3} {:>12.2}", backend.name(), per_step, 1.0 / per_step, batch_size as f64 / per_step);
    }
    Ok(())
}
