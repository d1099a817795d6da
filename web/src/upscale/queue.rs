//! The page's work list: every picture opened, dropped or pasted is an item that waits, runs,
//! and ends done, failed or cancelled; one runs at a time, in order. A failed or cancelled item
//! can be retried; the rest of the queue never stops because of it.

use web_sys::File;

use super::Shown;

/// Where an item's bytes come from (kept, so it can be retried without the user).
#[derive(Clone)]
pub enum Source {
    File(File),
    /// The page's built-in sample.
    Sample,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemState {
    Queued,
    Running,
    Done,
    Failed(String),
    Cancelled,
}

impl ItemState {
    pub fn id(&self) -> &'static str {
        match self {
            ItemState::Queued => "queued",
            ItemState::Running => "running",
            ItemState::Done => "done",
            ItemState::Failed(_) => "failed",
            ItemState::Cancelled => "cancelled",
        }
    }

    pub fn finished(&self) -> bool {
        matches!(self, ItemState::Done | ItemState::Failed(_) | ItemState::Cancelled)
    }
}

pub struct Item {
    pub id: u32,
    pub name: String,
    pub source: Source,
    pub state: ItemState,
    /// Tiles done / total while running.
    pub progress: (usize, usize),
    /// The result once done (its files live in blobs, not in WebAssembly memory).
    pub shown: Option<Shown>,
}

#[derive(Default)]
pub struct Queue {
    pub items: Vec<Item>,
    next_id: u32,
}

/// How many items are in each state, for the queue's heading and `#queue`'s data attributes.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub queued: usize,
    pub running: usize,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
}

impl Queue {
    pub fn push(&mut self, name: String, source: Source) -> u32 {
        self.next_id += 1;
        let id = self.next_id;
        self.items.push(Item { id, name, source, state: ItemState::Queued, progress: (0, 0), shown: None });
        id
    }

    pub fn get(&self, id: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.id == id)
    }

    pub fn running(&self) -> Option<u32> {
        self.items.iter().find(|i| i.state == ItemState::Running).map(|i| i.id)
    }

    /// The next item to run, marked running.
    pub fn start_next(&mut self) -> Option<u32> {
        if self.running().is_some() {
            return None;
        }
        let item = self.items.iter_mut().find(|i| i.state == ItemState::Queued)?;
        item.state = ItemState::Running;
        item.progress = (0, 0);
        Some(item.id)
    }

    /// Back in the queue (a retry, or "run again" with new settings); the old result goes.
    pub fn requeue(&mut self, id: u32) {
        if let Some(item) = self.get_mut(id).filter(|i| i.state != ItemState::Running) {
            item.state = ItemState::Queued;
            item.shown = None;
        }
    }

    /// Every waiting item is cancelled (the running one is stopped by its job's flag).
    pub fn cancel_waiting(&mut self) {
        for item in self.items.iter_mut().filter(|i| i.state == ItemState::Queued) {
            item.state = ItemState::Cancelled;
        }
    }

    /// Drop an item that is not running (its result's blob URLs are revoked on drop).
    pub fn remove(&mut self, id: u32) {
        self.items.retain(|i| i.id != id || i.state == ItemState::Running);
    }

    pub fn clear_finished(&mut self) {
        self.items.retain(|i| !i.state.finished());
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for item in &self.items {
            *match item.state {
                ItemState::Queued => &mut c.queued,
                ItemState::Running => &mut c.running,
                ItemState::Done => &mut c.done,
                ItemState::Failed(_) => &mut c.failed,
                ItemState::Cancelled => &mut c.cancelled,
            } += 1;
        }
        c
    }

    /// The latest item that finished with a result.
    pub fn last_done(&self) -> Option<u32> {
        self.items.iter().rev().find(|i| i.state == ItemState::Done).map(|i| i.id)
    }
}
