//! `srkd`: train, evaluate and run SRGAN generators distilled into small students.

use clap::{Parser, Subcommand};

mod allocator;
mod commands;

#[derive(Parser, Debug)]
#[command(
    name = "srkd",
    version,
    about = "Lightweight SRGAN by knowledge distillation: train, reproduce the paper, evaluate, upscale"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Upscale one image ×4 with a generator.
    Upscale(commands::upscale::UpscaleArgs),
    /// PSNR-Y / SSIM-Y of bicubic and of a generator on HR images (degraded with MATLAB bicubic).
    Eval(commands::eval::EvalArgs),
    /// Convert Keras SRResNet/SRGAN generator weights (.h5) into a burnpack file.
    ImportKeras(commands::import::ImportKerasArgs),
    /// Export a generator as safetensors with PyTorch names (architecture in the metadata).
    Export(commands::export::ExportArgs),
    /// Train a teacher or a student with one of the distillation schedules.
    Train(commands::train::TrainArgs),
    /// The paper's whole experiment: teachers, the no-KD student and the four distilled
    /// students at equal cost, evaluation (PSNR/SSIM/NIQE), report with tables and figures.
    Reproduce(commands::reproduce::ReproduceArgs),
    /// DMOS table (the paper's Table 3) from the web study's rating files.
    Dmos(commands::dmos::DmosArgs),
    /// Rating studies for the web page (`srkd study export`).
    Study(commands::study::StudyArgs),
    /// Serve the page, the weights and rating studies; collect raters' answers in a database.
    Serve(commands::serve::ServeArgs),
    /// Benchmarks (print timings; not tests).
    Bench(commands::bench::BenchArgs),
}

fn main() -> std::process::ExitCode {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Upscale(args) => commands::upscale::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::ImportKeras(args) => commands::import::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Reproduce(args) => commands::reproduce::run(args),
        Command::Dmos(args) => commands::dmos::run(args),
        Command::Study(args) => commands::study::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Bench(args) => commands::bench::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line: the file and every cause, outermost first.
            let msg: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", msg.join(": "));
            std::process::ExitCode::FAILURE
        }
    }
}
