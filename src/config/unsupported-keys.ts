// Keys of TRL, PEFT and transformers configs that alpha-dpo knows and does not implement yet.
// A config copied from a TRL recipe meets them often; naming them as "not supported yet" beats
// a misleading "did you mean" (lora_alpha is not ld_alpha).

const UNSUPPORTED: readonly { pattern: RegExp; why: string }[] = [
  {
    pattern: /^(peft_config|peft_type|lora_task_type|use_dora|target_modules|modules_to_save|model_adapter_name|ref_adapter_name)$/,
    why: 'a PEFT / TRL key alpha-dpo does not implement; LoRA is configured with use_peft and the lora_* keys (docs/training.md, LoRA)',
  },
  {
    pattern: /^(load_in_4bit|load_in_8bit|bnb_\w+|use_bnb_nested_quant|quantization_config|torch_compile\w*|use_liger_kernel|tf32)$/,
    why: 'quantised loading, torch.compile and fused kernels are not implemented',
  },
  {
    pattern: /^(deepspeed|fsdp\w*|ddp_(?!backend$|timeout$)\w+|local_rank|accelerator_config|tp_size|parallelism_config)$/,
    why: 'only data-parallel training is implemented (alpha-dpo train --nproc_per_node N, ddp_backend, ddp_timeout; docs/distributed.md), with its own settings; workers read LOCAL_RANK from the environment',
  },
  {
    pattern:
      /^(reference_free|sync_ref_model|ref_model_mixup_alpha|ref_model_sync_steps|force_use_ref_model|generate_during_eval|max_completion_length|use_logits_to_keep|dataset_num_proc|model_init_kwargs|ref_model_init_kwargs|tools|precompute_ref_batch_size|use_num_logits_to_keep)$/,
    why: 'a TRL DPOConfig key that alpha-dpo does not implement (docs/training.md lists the keys it reads)',
  },
  {
    pattern: /^(hub_\w+|push_to_hub_\w+|hub_token|resume_from_checkpoint_url|trust_remote_code|model_revision)$/,
    why: 'alpha-dpo works offline on local folders; nothing is pulled from or pushed to a hub',
  },
];

/** Why `key` (a TRL / PEFT / transformers key) is not supported yet, or null if it is not one of them; e.g. for use_dora: 'a PEFT key; …'. */
export function notSupportedYet(key: string): string | null {
  return UNSUPPORTED.find((u) => u.pattern.test(key))?.why ?? null;
}
