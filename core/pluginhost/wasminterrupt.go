package pluginhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Compiled code runs until it returns: the Go runtime can neither preempt
// it nor stop it. So that a call can be stopped at its deadline, or when
// the plugin is closed, and so that the host's garbage collector, which
// stops every goroutine at a safe point, never waits long for one running
// a module, the host adds to the module before compiling it two globals
// and a few instructions at the head of every loop:
//
//   - a countdown, which every loop head decrements; at zero it is set
//     back to interruptPeriod, and the module leaves its compiled code for
//     the runtime's Go code (a memory.grow by 0 pages), where the Go
//     scheduler may stop it;
//   - then the interrupt flag, exported as interruptExport, is tested:
//     when the host has set it, the call traps (unreachable).
//
// Code that runs long loops (a module without a loop ends soon, or calls
// the host, whose functions end with the call's context), so a call leaves
// the compiled code at least every interruptPeriod loop iterations, some
// tens of microseconds.
//
// wazero can stop a module on its own (RuntimeConfig.WithCloseOnContextDone),
// but it leaves the compiled code for Go at every loop head to do so: code
// compiled by Go, whose every jump goes through the loop head of its
// function, ran at half speed with it.

// interruptExport is the name under which an instrumented module exports
// its interrupt flag. A module that exports this name itself is refused.
const interruptExport = "vigil.interrupt"

// startExport is the name under which an instrumented module exports its
// start function, which the host calls once the instance exists, under
// the interrupt flag, rather than let the runtime run it as it
// instantiates the module, where no flag can stop it. A module that
// exports this name itself is refused.
const startExport = "vigil.start"

// interruptPeriod is how many loop iterations a module runs between two
// visits to the runtime's Go code.
const interruptPeriod = 4096

// Sections of a module, by id.
const (
	sectionCustom = 0
	sectionImport = 2
	sectionMemory = 5
	sectionGlobal = 6
	sectionExport = 7
	sectionStart  = 8
	sectionCode   = 10
	// sectionTag (13) comes between memory (5) and global (6) in a
	// module, and datacount (12) between element (9) and code (10).
	sectionTag       = 13
	sectionDataCount = 12
)

// sectionOrder is where a section of each id stands among the others.
func sectionOrder(id byte) int {
	switch id {
	case sectionTag:
		return 55 // between memory (5) and global (6)
	case sectionDataCount:
		return 95 // between element (9) and code (10)
	}
	return int(id) * 10
}

// instrumentVersion names the way instrumentModule rewrites a module: it
// must change whenever its output for the same input does, since the
// compilation cache keeps rewritten modules under it (see compiledMark).
const instrumentVersion = "i1"

// instrumentModule returns a copy of the WebAssembly binary code with the
// countdown and the interrupt flag added (see above). It refuses a binary
// it cannot read, and code that names a global the module does not have
// (which would be the ones added); the compiler validates what it
// returns.
func instrumentModule(code []byte) ([]byte, error) {
	if len(code) < 8 || !bytes.Equal(code[:8], []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}) {
		return nil, errors.New("not a WebAssembly binary module of version 1")
	}
	type section struct {
		id      byte
		payload []byte
	}
	var sections []section
	for r := code[8:]; len(r) > 0; {
		id := r[0]
		size, n, err := readU32(r[1:])
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		r = r[1+n:]
		if uint64(size) > uint64(len(r)) {
			return nil, fmt.Errorf("section %d: its size %d runs past the end of the module", id, size)
		}
		sections = append(sections, section{id, r[:size]})
		r = r[size:]
	}

	var importedGlobals, definedGlobals, memories uint32
	var start []byte // the start section's function index, if any
	for _, s := range sections {
		var err error
		switch s.id {
		case sectionStart:
			start = s.payload
			if _, n, rerr := readU32(start); rerr != nil || n != len(start) {
				err = errors.New("start section: not a function index")
			}
		case sectionImport:
			importedGlobals, memories, err = countImports(s.payload)
		case sectionMemory:
			var n uint32
			n, _, err = readU32(s.payload)
			memories += n
		case sectionGlobal:
			definedGlobals, _, err = readU32(s.payload)
		case sectionExport:
			err = checkExportNames(s.payload)
		}
		if err != nil {
			return nil, err
		}
	}
	countdown := importedGlobals + definedGlobals
	flag := countdown + 1
	if countdown < importedGlobals || flag < countdown {
		return nil, errors.New("global section: too many globals")
	}

	out := make([]byte, 0, len(code)+len(code)/32)
	out = append(out, code[:8]...)
	emit := func(id byte, payload []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(payload)))
		out = append(out, payload...)
	}
	// The globals: i32, mutable, initialized with i32.const.
	global := []byte{0x7f, 0x01, 0x41}
	global = appendI32(global, interruptPeriod)
	global = append(global, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b)
	export := append(appendName(nil, interruptExport), 0x03)
	export = binary.AppendUvarint(export, uint64(flag))
	exports := uint64(1)
	if start != nil {
		export = append(appendName(export, startExport), 0x00)
		export = append(export, start...)
		exports++
	}
	var hasGlobal, hasExport bool
	// addMissing emits the global and export sections the module lacks,
	// before the first section that must come after them.
	addMissing := func(next byte) {
		if !hasGlobal && next != sectionCustom && sectionOrder(next) > sectionOrder(sectionGlobal) {
			emit(sectionGlobal, append([]byte{0x02}, global...))
			hasGlobal = true
		}
		if !hasExport && next != sectionCustom && sectionOrder(next) > sectionOrder(sectionExport) {
			emit(sectionExport, append([]byte{byte(exports)}, export...))
			hasExport = true
		}
	}
	for _, s := range sections {
		addMissing(s.id)
		switch s.id {
		case sectionGlobal:
			emit(s.id, appendToVector(s.payload, 2, global))
			hasGlobal = true
		case sectionExport:
			emit(s.id, appendToVector(s.payload, exports, export))
			hasExport = true
		case sectionCode:
			payload, err := instrumentCode(s.payload, countdown, flag, memories > 0)
			if err != nil {
				return nil, err
			}
			emit(s.id, payload)
		case sectionStart:
			// Exported as startExport instead.
		default:
			emit(s.id, s.payload)
		}
	}
	addMissing(255)
	return out, nil
}

// appendToVector returns the vector payload (a count and its entries)
// with n more entries.
func appendToVector(payload []byte, n uint64, entries []byte) []byte {
	count, size, _ := readU32(payload) // read once already
	out := binary.AppendUvarint(make([]byte, 0, len(payload)+len(entries)+5), uint64(count)+n)
	out = append(out, payload[size:]...)
	return append(out, entries...)
}

// countImports counts the globals and memories an import section
// imports.
func countImports(p []byte) (globals, memories uint32, err error) {
	r := reader{b: p}
	count := r.u32()
	for i := uint32(0); i < count && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0x00: // function: type index
			r.u32()
		case 0x01: // table: reference type, limits
			r.byte()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
			memories++
		case 0x03: // global: value type, mutability
			r.byte()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			r.fail(fmt.Errorf("import %d has unknown kind %#x", i, kind))
		}
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("import section: %w", r.err)
	}
	return globals, memories, nil
}

// checkExportNames refuses an export section that has interruptExport.
func checkExportNames(p []byte) error {
	r := reader{b: p}
	count := r.u32()
	for i := uint32(0); i < count && r.err == nil; i++ {
		if name := r.name(); name == interruptExport || name == startExport {
			return fmt.Errorf("the module exports %q, a name the host keeps for itself", name)
		}
		r.byte()
		r.u32()
	}
	if r.err != nil {
		return fmt.Errorf("export section: %w", r.err)
	}
	return nil
}

// instrumentCode adds the countdown and the test of the interrupt flag,
// globals countdown and flag, at the head of every loop of the functions
// of a code section. Without a memory, the countdown does not leave the
// compiled code (the host refuses such a module before it runs it).
func instrumentCode(p []byte, countdown, flag uint32, memory bool) ([]byte, error) {
	get := func(b []byte, g uint32) []byte { return binary.AppendUvarint(append(b, 0x23), uint64(g)) }
	set := func(b []byte, g uint32) []byte { return binary.AppendUvarint(append(b, 0x24), uint64(g)) }
	// One block only: the validator copies some state at every block.
	// countdown = countdown - 1
	check := get(nil, countdown)
	check = append(check, 0x41, 0x01, 0x6b)
	check = set(check, countdown)
	// if countdown == 0
	check = get(check, countdown)
	check = append(check, 0x45, 0x04, 0x40)
	//   countdown = interruptPeriod
	check = appendI32(append(check, 0x41), interruptPeriod)
	check = set(check, countdown)
	if memory {
		//   memory.grow(0), which the runtime's Go code serves
		check = append(check, 0x41, 0x00, 0x40, 0x00, 0x1a)
	}
	//   if flag == 0: leave the block; else unreachable
	check = get(check, flag)
	check = append(check, 0x45, 0x0d, 0x00, 0x00)
	// end
	check = append(check, 0x0b)

	r := reader{b: p}
	count := r.u32()
	out := binary.AppendUvarint(make([]byte, 0, len(p)+len(p)/16), uint64(count))
	var body []byte
	for i := uint32(0); i < count && r.err == nil; i++ {
		size := r.u32()
		b := r.bytes(size)
		if r.err != nil {
			break
		}
		var err error
		if body, err = instrumentBody(body[:0], b, check, countdown); err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", i, err)
		}
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail(errors.New("bytes after the last function"))
	}
	if r.err != nil {
		return nil, fmt.Errorf("code section: %w", r.err)
	}
	return out, nil
}

// instrumentBody appends to out the function body b with check after
// the block type of every loop instruction. It walks every instruction,
// to tell opcodes from immediates, checks that the body's blocks nest and
// end where the body does, and that it names no global from index
// globals on.
func instrumentBody(out, b, check []byte, globals uint32) ([]byte, error) {
	// The walk is the hot path of loading a module: it indexes b
	// directly; i < 0 means that b ended within an instruction.
	i := 0
	locals, n, err := readU32(b)
	if err != nil {
		return nil, fmt.Errorf("locals: %w", err)
	}
	i += n
	for ; locals > 0 && i >= 0; locals-- { // count, type
		i = skipLEB(b, i)
		i = skipBytes(b, i, 1)
	}
	depth := 1 // the function's own block
	from := 0
	for depth > 0 && i >= 0 && i < len(b) {
		op := b[i]
		i++
		switch op {
		case 0x02, 0x04: // block, if: block type
			i = skipLEB(b, i)
			depth++
		case 0x03: // loop: block type, then the check
			i = skipLEB(b, i)
			depth++
			if i >= 0 {
				out = append(out, b[from:i]...)
				out = append(out, check...)
				from = i
			}
		case 0x0b: // end
			depth--
		case 0x00, 0x01, 0x05, 0x0f, 0x1a, 0x1b, 0xd1: // no immediate
		case 0x23, 0x24: // global.get, global.set
			g, n, err := readU32(b[i:])
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			if g >= globals {
				return nil, fmt.Errorf("global %d at byte %d does not exist", g, i)
			}
			i += n
		case 0x0c, 0x0d, 0x10, 0x12, 0x20, 0x21, 0x22, 0x25, 0x26, 0xd0, 0xd2, 0x3f, 0x40, 0x41, 0x42:
			// br, br_if, call, return_call, local.*, table.get/set,
			// ref.null, ref.func, memory.size/grow, i32/i64.const:
			// one LEB128 immediate
			i = skipLEB(b, i)
		case 0x0e: // br_table: labels, default
			labels, n, err := readU32(b[i:])
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			i += n
			for ; labels > 0 && i >= 0; labels-- {
				i = skipLEB(b, i)
			}
			i = skipLEB(b, i)
		case 0x11, 0x13: // call_indirect, return_call_indirect: type, table
			i = skipLEB(b, skipLEB(b, i))
		case 0x1c: // select with types
			types, n, err := readU32(b[i:])
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			i = skipBytes(b, i+n, int(types))
		case 0x43: // f32.const
			i = skipBytes(b, i, 4)
		case 0x44: // f64.const
			i = skipBytes(b, i, 8)
		case 0xfc, 0xfd:
			sub, n, err := readU32(b[i:])
			if err != nil {
				return nil, fmt.Errorf("byte %d: %w", i, err)
			}
			i += n
			if op == 0xfc {
				i = skipFC(b, i, sub)
			} else {
				i = skipFD(b, i, sub)
			}
			if i == errOpcode {
				return nil, fmt.Errorf("opcode %#x %d is not one this host runs", op, sub)
			}
		default:
			switch {
			case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
				i = skipLEB(b, skipLEB(b, i))
			case op >= 0x45 && op <= 0xc4: // numeric, no immediate
			default:
				return nil, fmt.Errorf("opcode %#x at byte %d is not one this host runs", op, i-1)
			}
		}
	}
	switch {
	case i < 0:
		return nil, errors.New("the body ends within an instruction")
	case depth > 0:
		return nil, errors.New("the body ends inside a block")
	case i != len(b):
		return nil, errors.New("bytes after the body's end")
	}
	return append(out, b[from:]...), nil
}

// errOpcode is what skipFC and skipFD return for an opcode they do not
// know.
const errOpcode = -2

// skipFC skips, from b[i], the immediates of the instruction of prefix
// 0xfc and sub-opcode sub: saturating conversions, bulk memory and
// table instructions.
func skipFC(b []byte, i int, sub uint32) int {
	switch {
	case sub <= 7: // trunc_sat
		return i
	case sub == 8: // memory.init: data index, memory
		return skipBytes(b, skipLEB(b, i), 1)
	case sub == 9, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, elem.drop, table.grow/size/fill
		return skipLEB(b, i)
	case sub == 10: // memory.copy: two memories
		return skipBytes(b, i, 2)
	case sub == 11: // memory.fill: memory
		return skipBytes(b, i, 1)
	case sub == 12, sub == 14: // table.init, table.copy
		return skipLEB(b, skipLEB(b, i))
	}
	return errOpcode
}

// skipFD skips, from b[i], the immediates of the SIMD instruction (prefix
// 0xfd) of sub-opcode sub.
func skipFD(b []byte, i int, sub uint32) int {
	switch {
	case sub <= 11, sub == 0x5c, sub == 0x5d: // loads, store: memarg
		return skipLEB(b, skipLEB(b, i))
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		return skipBytes(b, i, 16)
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane: lane
		return skipBytes(b, i, 1)
	case sub >= 0x54 && sub <= 0x5b: // load/store lane: memarg, lane
		return skipBytes(b, skipLEB(b, skipLEB(b, i)), 1)
	case sub <= 0xff: // no immediate
		return i
	}
	return errOpcode
}

// skipLEB returns the index in b after the LEB128 number at b[i], or -1
// when b ends within it (or i is already -1).
func skipLEB(b []byte, i int) int {
	if i < 0 {
		return -1
	}
	for end := min(i+10, len(b)); i < end; i++ {
		if b[i] < 0x80 {
			return i + 1
		}
	}
	return -1
}

// skipBytes returns i+n, or -1 when that is past the end of b (or i is
// already -1).
func skipBytes(b []byte, i, n int) int {
	if i < 0 || n > len(b)-i {
		return -1
	}
	return i + n
}

// reader reads a module's bytes; its first error sticks.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.off = len(r.b)
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.fail(errors.New("unexpected end"))
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytes(n uint32) []byte {
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail(errors.New("unexpected end"))
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *reader) u32() uint32 {
	v, n, err := readU32(r.b[r.off:])
	if err != nil {
		r.fail(err)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) name() string { return string(r.bytes(r.u32())) }

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// readU32 reads an unsigned LEB128 number of at most 32 bits, and says
// how many bytes it took.
func readU32(b []byte) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("unexpected end")
		}
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, 0, errors.New("a LEB128 number is too long for 32 bits")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("a LEB128 number is too long for 32 bits")
}

// appendI32 appends v as a signed LEB128 number, as i32.const takes it.
func appendI32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendName appends a name as a module encodes it: length, bytes.
func appendName(b []byte, name string) []byte {
	b = binary.AppendUvarint(b, uint64(len(name)))
	return append(b, name...)
}
