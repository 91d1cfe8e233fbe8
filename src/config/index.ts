// The config-schema engine shared by the training, loss, data and model configs.
export { ConfigError, type ConfigErrorClass, throwIfProblems } from './config-error.js';
export {
  describeValue,
  type Resolution,
  type ResolveOptions,
  resolveSchema,
  resolveSchemaOrThrow,
  unknownKeyDetail,
  whereOf,
} from './resolve.js';
export {
  type BooleanField,
  type CustomField,
  describeSchema,
  type EnumField,
  type Field,
  type FieldValue,
  type NoteField,
  type NumberField,
  type NumberListField,
  type ObjectField,
  rangeText,
  type Schema,
  type SchemaInput,
  type SchemaValues,
  type StringField,
  type TokenIdsField,
  typeText,
  type ValueKeys,
} from './schema.js';
export { didYouMean, editDistance, nearestName, suggestNames } from './suggest.js';
export { notSupportedYet } from './unsupported-keys.js';
