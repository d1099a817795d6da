use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Trainable parameters of a module, as papers and Keras count them: every float parameter
/// except BatchNorm running statistics (which burn's `num_params` includes).
pub fn trainable_params<M: Module>(module: &M) -> usize {
    let mut counter = TrainableCounter::default();
    module.visit(&mut counter);
    counter.count
}

#[derive(Default)]
struct TrainableCounter {
    path: Vec<String>,
    count: usize,
}

impl ModuleVisitor for TrainableCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let running = self.path.last().is_some_and(|n| n.starts_with("running_"));
        if !running {
            self.count += param.lazy_shape().num_elements();
        }
    }
}
