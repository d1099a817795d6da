//! What a pick, a drop or a paste brings to the queue: the image files of a `FileList`, and for
//! a dropped folder every image inside it, subfolders included (a drop's `files` holds only the
//! folder itself; its contents come through the File System entries API).

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, File};

fn is_image(file: &File) -> bool {
    file.type_().is_empty() || file.type_().starts_with("image/")
}

/// The files of a `FileList` (a pick, a drop or a paste); folders picked whole bring every file
/// in them, so anything that is not an image is left out here rather than failing in the queue.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).filter(is_image).collect()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object.method()`, or `undefined` when it has no such method or it throws.
fn call0(object: &JsValue, method: &str) -> JsValue {
    get(object, method).dyn_into::<Function>().ok().and_then(|f| f.call0(object).ok()).unwrap_or(JsValue::UNDEFINED)
}

/// `object.method(onSuccess, onError)` as a future (the entries API predates promises).
async fn call_back(object: &JsValue, method: &str) -> Result<JsValue, String> {
    let function = get(object, method).dyn_into::<Function>().map_err(|_| format!("no {method}"))?;
    let promise = Promise::new(&mut |resolve, reject| {
        if let Err(e) = function.call2(object, &resolve, &reject) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    JsFuture::from(promise).await.map_err(|e| format!("{method}: {e:?}"))
}

/// The file system entries of a drop, taken while the event lasts (the browser empties the
/// items afterwards); `None` when no folder was dropped, so the plain `files` serve.
pub fn dropped_folders(event: &DragEvent) -> Option<Vec<JsValue>> {
    let items = event.data_transfer()?.items();
    let entries: Vec<JsValue> = (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .map(|item| call0(&item, "webkitGetAsEntry"))
        .filter(|entry| entry.is_object())
        .collect();
    entries.iter().any(|e| get(e, "isDirectory").is_truthy()).then_some(entries)
}

/// Every image file under `entries`, folder by folder in name order; entries that cannot be
/// read are left out and counted.
pub async fn files_in(entries: Vec<JsValue>) -> (Vec<File>, usize) {
    let mut files = Vec::new();
    let mut unreadable = 0;
    let mut stack: Vec<JsValue> = entries.into_iter().rev().collect();
    while let Some(entry) = stack.pop() {
        if get(&entry, "isDirectory").is_truthy() {
            let reader = call0(&entry, "createReader");
            let mut children = Vec::new();
            // A reader hands out a folder's entries in batches until it returns none.
            loop {
                match call_back(&reader, "readEntries").await {
                    Ok(batch) if Array::is_array(&batch) && Array::from(&batch).length() > 0 => {
                        children.extend(Array::from(&batch).iter());
                    }
                    Ok(_) => break,
                    Err(_) => {
                        unreadable += 1;
                        break;
                    }
                }
            }
            children.sort_by_key(|c| get(c, "name").as_string().unwrap_or_default());
            stack.extend(children.into_iter().rev());
        } else if get(&entry, "isFile").is_truthy() {
            match call_back(&entry, "file").await.map(|f| f.dyn_into::<File>()) {
                Ok(Ok(file)) if is_image(&file) => files.push(file),
                Ok(Ok(_)) => {}
                _ => unreadable += 1,
            }
        }
    }
    (files, unreadable)
}
