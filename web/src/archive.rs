//! Many results as one ZIP, in bounded memory: each file is read back from its blob URL one at a
//! time, stored (PNG and JPEG are compressed already), and the archive leaves WebAssembly memory
//! in [`BlobParts`] — never one buffer the size of the whole archive.

use std::collections::HashSet;
use std::io::Write;

use web_sys::Blob;
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::browser::{BlobParts, fetch_bytes};

/// `name` made unique among `taken` (`a.png`, `a-2.png`, …): two pictures of one name from
/// different folders must not overwrite each other in the archive.
pub fn unique_name(name: &str, taken: &mut HashSet<String>) -> String {
    let (stem, extension) = name.rsplit_once('.').map_or((name, String::new()), |(s, e)| (s, format!(".{e}")));
    let mut candidate = name.to_string();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{stem}-{n}{extension}");
    }
    candidate
}

/// A ZIP `Blob` of `(file name, blob URL)` entries.
pub async fn zip_blob(entries: &[(String, String)]) -> Result<Blob, String> {
    let failed = |e: zip::result::ZipError| format!("ZIP: {e}");
    let mut writer = ZipWriter::new_stream(BlobParts::new());
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut taken = HashSet::new();
    for (name, url) in entries {
        let bytes = fetch_bytes(url).await?;
        writer.start_file(unique_name(name, &mut taken), options).map_err(failed)?;
        writer.write_all(&bytes).map_err(|e| format!("ZIP: {e}"))?;
    }
    writer.finish().map_err(failed)?.into_inner().into_blob("application/zip")
}
