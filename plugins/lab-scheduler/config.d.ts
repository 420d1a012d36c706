export interface Config {
  labScheduler?: {
    /** Which catalog entities are instruments (the backend plugin reads the same keys). */
    instruments?: {
      /**
       * Entity kind of instruments. Default: Resource.
       * @visibility frontend
       */
      kind?: string;
      /**
       * Required spec.type of instruments; an empty string accepts any. Default: instrument.
       * @visibility frontend
       */
      type?: string;
    };
  };
}
