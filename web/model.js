// A snapshot (docs/snapshot-format.md) indexed for the views: allocations, their regions and the
// free gaps, addresses as BigInt, lookups by address, and a row model for the details table.
import { parseAddr } from './format.js';
import { TYPE_BY_KEY, typeName } from './palette.js';

export const KIND_ALLOC = 0;
export const KIND_REGION = 1;
export const KIND_GAP = 2;

function bsearchLE(arr, v) {
  // index of the last element <= v, or -1 (arr sorted ascending, BigInt values)
  let lo = 0;
  let hi = arr.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] <= v) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

export class SnapshotModel {
  constructor(snap) {
    this.snap = snap;
    this.allocs = snap.allocations || [];
    this.gaps = snap.free || [];
    const A = this.allocs.length;
    this.aStart = new Array(A);
    this.aEnd = new Array(A);
    this.aType = new Uint8Array(A);
    this.aFirst = new Int32Array(A); // index of its first region in this.regions
    this.regions = [];                // every region, address order
    this.rAlloc = [];                 // region -> allocation index
    this.rStart = [];
    let maxAddr = 0n;
    for (let a = 0; a < A; a++) {
      const al = this.allocs[a];
      this.aStart[a] = parseAddr(al.start);
      this.aEnd[a] = parseAddr(al.end);
      if (this.aEnd[a] > maxAddr) maxAddr = this.aEnd[a];
      this.aType[a] = TYPE_BY_KEY[al.type] ? TYPE_BY_KEY[al.type].index : TYPE_BY_KEY.private_data.index;
      this.aFirst[a] = this.regions.length;
      for (const r of al.regions || []) {
        this.regions.push(r);
        this.rAlloc.push(a);
        this.rStart.push(parseAddr(r.start));
      }
    }
    this.gStart = this.gaps.map((g) => parseAddr(g.start));
    this.gEnd = this.gaps.map((g) => parseAddr(g.end));
    for (const e of this.gEnd) if (e > maxAddr) maxAddr = e;
    this.userTop = parseAddr(snap.user_top) || maxAddr;
    // 12 hex digits cover a 48-bit user space; [vsyscall] above it prints longer on its own.
    this.addrWidth = this.userTop > 0x1000000000000n ? 16 : 12;
    this.minAddr = parseAddr(snap.mmap_min_addr) || 0n;

    this.summaryByType = Object.fromEntries((snap.summary || []).map((s) => [s.type, s]));
    const free = this.summaryByType.free;
    this.largestGap = -1;
    let best = -1;
    for (let g = 0; g < this.gaps.length; g++) {
      if (this.gaps[g].size > best) { best = this.gaps[g].size; this.largestGap = g; }
    }
    this.largestFree = free ? free.largest : Math.max(0, best);
    this._search = null;
    this._prot = new Map();
  }

  get allocCount() { return this.allocs.length; }
  get gapCount() { return this.gaps.length; }

  regionCount(a) {
    return (this.allocs[a].regions || []).length;
  }

  // Protection of an allocation: its regions' perms, distinct, in address order ("r--p/r-xp/rw-p").
  allocPerms(a) {
    let p = this._prot.get(a);
    if (p === undefined) {
      const seen = [];
      for (const r of this.allocs[a].regions || []) if (!seen.includes(r.perms)) seen.push(r.perms);
      p = seen.join(' ');
      this._prot.set(a, p);
    }
    return p;
  }

  // Lower-cased text of an allocation for "find": type, details, region paths and perms.
  searchText(a) {
    if (!this._search) {
      this._search = new Array(this.allocs.length);
    }
    let s = this._search[a];
    if (s === undefined) {
      const al = this.allocs[a];
      const parts = [typeName(al.type), al.details || '', al.tid ? `tid ${al.tid}` : ''];
      let last = null;
      for (const r of al.regions || []) {
        if (r.path && r.path !== last && r.path !== al.details) { parts.push(r.path); last = r.path; }
        if (r.role) parts.push(r.role);
        parts.push(r.perms);
      }
      s = parts.join('\n').toLowerCase();
      this._search[a] = s;
    }
    return s;
  }

  // What is at an address: {kind: KIND_REGION, a, r} | {kind: KIND_GAP, g} | null
  lookup(addr) {
    const a = bsearchLE(this.aStart, addr);
    if (a >= 0 && addr < this.aEnd[a]) {
      const first = this.aFirst[a];
      const n = this.regionCount(a);
      let r = first;
      let lo = first;
      let hi = first + n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this.rStart[mid] <= addr) { r = mid; lo = mid + 1; } else hi = mid - 1;
      }
      return { kind: KIND_REGION, a, r };
    }
    const g = bsearchLE(this.gStart, addr);
    if (g >= 0 && addr < this.gEnd[g]) return { kind: KIND_GAP, g };
    return null;
  }

  // A selection's start address (BigInt) and what it is.
  selAddr(sel) {
    if (!sel) return null;
    if (sel.kind === KIND_ALLOC) return this.aStart[sel.a];
    if (sel.kind === KIND_REGION) return this.rStart[sel.r];
    if (sel.kind === KIND_GAP) return this.gStart[sel.g];
    return null;
  }
}
