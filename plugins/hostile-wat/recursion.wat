;; Hostile fixture: unbounded recursion on the wasm stack itself (Rust guests overflow their
;; shadow stack in linear memory first; this one reaches the host's `max_wasm_stack`).
(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (data (i32.const 16) "hostile.wasm-recursion")  ;; 22 bytes
  (data (i32.const 48) "Native recursion")        ;; 16 bytes
  (data (i32.const 80) "1.0.0")                   ;; 5 bytes
  (data (i32.const 96) "https://docs.assay.dev/hostile")  ;; 30 bytes
  (data (i32.const 256)
    "\10\00\00\00\16\00\00\00"
    "\30\00\00\00\10\00\00\00"
    "\50\00\00\00\05\00\00\00"
    "\30\00\00\00\10\00\00\00"
    "\02\00\00\00"
    "\60\00\00\00\1e\00\00\00")
  (func (export "assay:plugin/rule@0.1.0#describe") (result i32) (i32.const 256))
  (func $down (param $n i64) (result i64)
    (i64.add (call $down (i64.add (local.get $n) (i64.const 1))) (local.get $n)))
  (func (export "assay:plugin/rule@0.1.0#check") (param i32) (result i32)
    (drop (call $down (i64.const 0)))
    (i32.const 512)))
