export interface Config {
  /** Configuration of the Lab Scheduler plugin. */
  labScheduler?: {
    /** Which catalog entities are instruments. */
    instruments?: {
      /**
       * Entity kind of instruments. Default: Resource.
       * @visibility frontend
       */
      kind?: string;
      /**
       * Required `spec.type` of instrument entities; an empty string accepts any. Default: instrument.
       * @visibility frontend
       */
      type?: string;
      /**
       * Check that a task's instrument exists in the catalog and supports its measurement type.
       * Default: true.
       * @visibility backend
       */
      validateWithCatalog?: boolean;
    };
    /** REST API settings. */
    api?: {
      /**
       * Largest accepted JSON request body, in the `bytes` notation (e.g. 64kb). Default: 64kb.
       * @visibility backend
       */
      maxBodySize?: string;
    };
  };
}
