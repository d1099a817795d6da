//! A PNG written a band of rows at a time, so a result far larger than memory (a 16000×12000
//! upscale) never exists whole: the CLI streams it into its file, the page into blob parts.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use super::output_samples;
use crate::Error;

/// The caller's writer and its first error, shared with the encoder: the encoder writes the
/// closing chunk when it is dropped and swallows errors there, and owns what it writes to.
struct Shared<W> {
    sink: W,
    error: Option<io::Error>,
}

struct Latch<W>(Rc<RefCell<Shared<W>>>);

impl<W: Write> Latch<W> {
    fn keep<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            self.0.borrow_mut().error.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
        }
        result
    }
}

impl<W: Write> Write for Latch<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let result = self.0.borrow_mut().sink.write(bytes);
        self.keep(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.0.borrow_mut().sink.flush();
        self.keep(result)
    }
}

/// An 8-bit grey (1 channel) or RGB (3) PNG fed row band by row band into `W`;
/// [`PngRows::finish`] checks that every row came and the file was closed, and hands `W` back.
pub struct PngRows<W: Write + 'static> {
    stream: png::StreamWriter<'static, Latch<W>>,
    shared: Rc<RefCell<Shared<W>>>,
    grayscale: bool,
}

fn encode_error(e: impl ToString) -> Error {
    Error::Encode { reason: e.to_string() }
}

impl<W: Write + 'static> PngRows<W> {
    pub fn new(
        sink: W,
        (width, height): (usize, usize),
        channels: usize,
        icc_profile: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let color = match channels {
            1 => png::ColorType::Grayscale,
            3 => png::ColorType::Rgb,
            _ => return Err(encode_error(format!("a streamed PNG has 1 or 3 channels, not {channels}"))),
        };
        let side =
            |v: usize| u32::try_from(v).map_err(|_| encode_error(format!("{width}×{height} is too large for a PNG")));
        let mut info = png::Info::with_size(side(width)?, side(height)?);
        info.color_type = color;
        info.bit_depth = png::BitDepth::Eight;
        info.icc_profile = icc_profile.map(|p| p.to_vec().into());
        let shared = Rc::new(RefCell::new(Shared { sink, error: None }));
        let encoder = png::Encoder::with_info(Latch(shared.clone()), info).map_err(encode_error)?;
        let stream = encoder.write_header().and_then(|w| w.into_stream_writer()).map_err(encode_error)?;
        Ok(Self { stream, shared, grayscale: channels == 1 })
    }

    /// The next rows, top to bottom, `channels` samples per pixel.
    pub fn write_rows(&mut self, samples: &[u8]) -> Result<(), Error> {
        self.stream.write_all(samples).map_err(encode_error)
    }

    /// The next rows as RGB, folded to one channel (as [`output_samples`] folds a grey
    /// picture's result) when the file is grey.
    pub fn write_rgb_rows(&mut self, rgb: &[u8]) -> Result<(), Error> {
        match self.grayscale {
            true => self.write_rows(&output_samples(rgb.to_vec(), None, true).1),
            false => self.write_rows(rgb),
        }
    }

    /// Close the file and hand the writer back: an error if rows are missing or the writer
    /// failed (also on the closing chunk).
    pub fn finish(self) -> Result<W, Error> {
        let Self { stream, shared, .. } = self;
        // Finishing drops the encoder inside, which writes the closing chunk.
        stream.finish().map_err(encode_error)?;
        let shared = Rc::try_unwrap(shared).map_err(|_| encode_error("the PNG encoder is still open"))?.into_inner();
        match shared.error {
            Some(e) => Err(encode_error(e)),
            None => Ok(shared.sink),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{decode, encode_png};

    #[test]
    fn bands_make_the_same_picture_as_one_write() {
        let (w, h) = (7, 5);
        let samples: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let mut rows = PngRows::new(Vec::new(), (w, h), 3, None).unwrap();
        for band in samples.chunks(w * 3 * 2) {
            rows.write_rows(band).unwrap();
        }
        let streamed = rows.finish().unwrap();
        let whole = encode_png(w, h, 3, samples).unwrap();
        assert_eq!(decode(&streamed).unwrap().rgb.data, decode(&whole).unwrap().rgb.data);
    }

    #[test]
    fn rgb_rows_of_a_grey_file_are_folded_as_output_samples_folds_them() {
        let rgb: Vec<u8> = (0..4 * 2 * 3).map(|i| (i * 29 % 256) as u8).collect();
        let mut rows = PngRows::new(Vec::new(), (4, 2), 1, None).unwrap();
        rows.write_rgb_rows(&rgb).unwrap();
        let folded = decode(&rows.finish().unwrap()).unwrap();
        assert!(folded.grayscale);
        let want = output_samples(rgb, None, true).1;
        assert_eq!(folded.rgb.data.iter().step_by(3).map(|&v| v as u8).collect::<Vec<_>>(), want);
    }

    #[test]
    fn missing_rows_and_a_failing_sink_are_errors() {
        let mut rows = PngRows::new(Vec::new(), (4, 4), 1, None).unwrap();
        rows.write_rows(&[0; 8]).unwrap();
        assert!(rows.finish().is_err(), "half the rows");

        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                if self.0 < b.len() {
                    return Err(io::Error::other("disk full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        // Room for the header and the rows but not the closing chunk.
        let mut rows = PngRows::new(Vec::new(), (4, 4), 1, None).unwrap();
        rows.write_rows(&[9; 16]).unwrap();
        let whole = rows.finish().unwrap();
        let mut rows = PngRows::new(Full(whole.len() - 1), (4, 4), 1, None).unwrap();
        rows.write_rows(&[9; 16]).unwrap();
        assert!(rows.finish().is_err(), "the last chunk did not fit");
        assert!(PngRows::new(Vec::new(), (4, 4), 2, None).is_err(), "2 channels");
    }
}
