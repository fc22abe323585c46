/**
 * Terraform's `providers schema -json` shapes, strict as the schema tests want them: every printed
 * node carries `description_kind`, every schema a `version`.
 */
export type TypeExpr = string | [string, unknown];

export interface Attribute {
  type?: TypeExpr;
  nested_type?: NestedType;
  description?: string;
  description_kind: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  write_only?: boolean;
}

export interface NestedType {
  attributes: Record<string, Attribute>;
  nesting_mode: string;
  min_items?: number;
  max_items?: number;
}

export interface Block {
  attributes?: Record<string, Attribute>;
  block_types?: Record<string, BlockType>;
  description?: string;
  description_kind: string;
  deprecated?: boolean;
}

export interface BlockType {
  nesting_mode: string;
  block: Block;
  min_items?: number;
  max_items?: number;
}

export interface Schema {
  version: number;
  block: Block;
}

export interface ProviderEntry {
  provider: Schema;
  resource_schemas: Record<string, Schema>;
  data_source_schemas?: Record<string, Schema>;
  ephemeral_resource_schemas?: Record<string, Schema>;
}

export interface SchemaFile {
  format_version: string;
  provider_schemas: Record<string, ProviderEntry>;
}
