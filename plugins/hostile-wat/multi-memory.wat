;; Hostile fixture: a listing rule whose memory bomb is spread across three linear memories.
;; Each memory alone stays under any per-memory limit (25 MiB each); together they exceed the
;; default 64 MiB total. Rust cannot emit several memories, so this core module is written by
;; hand; the host's tests wrap it into a `listing-rule` component with wit-component.
(module
  (memory (export "memory") 1)
  (memory $b 1)
  (memory $c 1)
  (global $heap (mut i32) (i32.const 4096))

  ;; A bump allocator: the host lowers the listing into memory 0 through it.
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.xor (i32.sub (local.get $align) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size 0) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow 0 (i32.add (i32.div_u (i32.sub (global.get $heap) (i32.mul (memory.size 0) (i32.const 65536)))
                                                 (i32.const 65536))
                                      (i32.const 1)))
              (i32.const -1))
          (then unreachable))))
    (local.get $p))

  (data (i32.const 16) "hostile.multi-memory")            ;; 20 bytes
  (data (i32.const 48) "Memory bomb across memories")     ;; 27 bytes
  (data (i32.const 80) "1.0.0")                           ;; 5 bytes
  (data (i32.const 96) "https://docs.assay.dev/hostile")  ;; 30 bytes
  ;; rule-info { id, name, version, description, default-severity: error, help-url } at 256
  (data (i32.const 256)
    "\10\00\00\00\14\00\00\00"
    "\30\00\00\00\1b\00\00\00"
    "\50\00\00\00\05\00\00\00"
    "\30\00\00\00\1b\00\00\00"
    "\02\00\00\00"
    "\60\00\00\00\1e\00\00\00")

  (func (export "assay:plugin/rule@0.1.0#describe") (result i32)
    (i32.const 256))

  (func (export "assay:plugin/rule@0.1.0#check") (param $input i32) (result i32)
    ;; 400 pages = 25 MiB in each memory
    (drop (memory.grow $b (i32.const 400)))
    (drop (memory.grow $c (i32.const 400)))
    (if (i32.eq (memory.grow 0 (i32.const 400)) (i32.const -1))
      (then unreachable))
    ;; Only reached under a larger limit: ok(empty list), all zeros.
    (i32.const 512)))
