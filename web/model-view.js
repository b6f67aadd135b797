// What every view of one snapshot (summary, details) starts from: its model, the options the
// snapshot view gave it, and the units its sizes are shown in ('auto' unless opts.units says).
export class ModelView {
  constructor(model, opts) {
    this.m = model;
    this.opts = opts;
    this.units = opts.units || 'auto';
  }
}
