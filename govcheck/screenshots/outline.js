// Run in the rendered page (page scripts are off; this runs in Playwright's evaluate).
// window.govcheck.mask() masks personal numbers; .links() lists linked URLs; .mark(spec)
// outlines one problem and scrolls it into view.
(() => {
  const COLOR = "__COLOR__";
  const SKIP = "script,style,noscript,template,title,[data-govcheck]";

  function textNodes() {
    const out = [];
    if (!document.body) return out;
    // No filter callback: with page scripts off, Blink refuses to call back into script from DOM APIs.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const n = walker.currentNode, p = n.parentElement;
      if (p && !p.closest(SKIP)) out.push(n);
    }
    return out;
  }

  function docRect(r) {
    if (!r || r.width <= 0 || r.height <= 0) return null;
    const x = window.scrollX, y = window.scrollY;
    const rect = {left: r.left + x, top: r.top + y, width: r.width, height: r.height};
    // Off-screen (left:-9999px) is not on the page a reader sees.
    if (rect.left + rect.width <= 0 || rect.top + rect.height <= 0) return null;
    if (rect.left >= document.documentElement.scrollWidth) return null;
    return rect;
  }

  function elementRect(e) {
    if (!e || !e.getBoundingClientRect) return null;
    const style = getComputedStyle(e);
    if (style.visibility === "hidden" || style.display === "none" || parseFloat(style.opacity) === 0) return null;
    return docRect(e.getBoundingClientRect());
  }

  // Characters of the body text without white space, each with its node and offset: the
  // checks read the page's text with white space squashed, HTML source breaks lines anywhere.
  function charMap() {
    const chars = [];
    let s = "";
    for (const n of textNodes()) {
      const d = n.data;
      for (let i = 0; i < d.length; i++) {
        const c = d[i];
        if (c === " " || c === "\n" || c === "\t" || c === "\r" || c === "\u00a0" || c === "\u3000") continue;
        chars.push([n, i]);
        s += c;
      }
    }
    return [s, chars];
  }

  function findText(needle) {
    needle = (needle || "").replace(/[\s\u00a0\u3000]+/g, "");
    if (!needle) return null;
    const [s, chars] = charMap();
    let from = 0, first = null;
    for (;;) {
      const i = s.indexOf(needle, from);
      if (i < 0) break;
      const r = document.createRange();
      const [a, ao] = chars[i];
      const [b, bo] = chars[i + needle.length - 1];
      r.setStart(a, ao);
      r.setEnd(b, bo + 1);
      const rect = docRect(r.getBoundingClientRect());
      if (rect) return {range: r, rect: rect};
      if (!first) first = {range: r, rect: null};
      from = i + 1;
    }
    return first;
  }

  function visibleAncestor(e) {
    for (let p = e; p && p !== document.documentElement; p = p.parentElement) {
      const rect = elementRect(p);
      if (rect && p !== document.body) return [p, rect];
    }
    return [null, null];
  }

  function reveal(e) {
    let changed = false;
    for (let p = e; p && p !== document.body; p = p.parentElement) {
      const st = getComputedStyle(p);
      const set = (k, v) => { p.style.setProperty(k, v, "important"); changed = true; };
      if (st.display === "none") set("display", p === e ? "inline-block" : "block");
      if (st.visibility === "hidden" || st.visibility === "collapse") set("visibility", "visible");
      if (parseFloat(st.opacity) === 0) set("opacity", "1");
      if (st.position === "absolute" || st.position === "fixed") {
        const r = p.getBoundingClientRect();
        if (r.right + window.scrollX <= 0 || r.bottom + window.scrollY <= 0 || r.left >= document.documentElement.scrollWidth) {
          set("position", "static");
        }
      }
      if ((parseFloat(st.width) === 0 || parseFloat(st.height) === 0) && st.overflow !== "visible") {
        set("width", "auto"); set("height", "auto"); set("overflow", "visible");
      }
      if (parseFloat(st.fontSize) === 0) set("font-size", "14px");
      if (Math.abs(parseFloat(st.textIndent)) > 500) set("text-indent", "0");
      if (st.clipPath && st.clipPath !== "none") set("clip-path", "none");
      if (st.clip && st.clip !== "auto") set("clip", "auto");
    }
    if (changed) e.setAttribute("data-govcheck-revealed", "1");
    return true;
  }

  function block(e) {
    const b = e.closest("li,tr,dd,dt,p,h1,h2,h3,h4,td,div");
    return b || e;
  }

  // --------------------------------------------------------------- personal data
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  function idValid(n) {
    if (!/^\d{17}[\dXx]$/.test(n)) return false;
    let t = 0;
    for (let i = 0; i < 17; i++) t += parseInt(n[i], 10) * WEIGHTS[i];
    return "10X98765432"[t % 11] === n[17].toUpperCase();
  }
  function maskNumber(kind, n) {  // the same forms as checks.privacy.mask
    if (kind === "id_card") return n.slice(0, 6) + "*".repeat(8) + n.slice(-4);
    if (kind === "mobile") return n.slice(0, 3) + "****" + n.slice(-4);
    return n.slice(0, 4) + "*".repeat(n.length - 8) + n.slice(-4);
  }
  const PERSONAL = /(?<![0-9A-Za-z*])([1-8]\d{16}[\dXx]|\d{16,19}|1[3-9]\d{9})(?![0-9A-Za-z*])/g;

  function mask() {
    let masked = 0;
    for (const n of textNodes()) {
      const d = n.data;
      PERSONAL.lastIndex = 0;
      if (!PERSONAL.test(d)) continue;
      PERSONAL.lastIndex = 0;
      const frag = document.createDocumentFragment();
      let last = 0, m;
      while ((m = PERSONAL.exec(d)) !== null) {
        const num = m[1];
        const kind = num.length === 11 ? "mobile" : (num.length === 18 && idValid(num) ? "id_card" : "bank_card");
        frag.appendChild(document.createTextNode(d.slice(last, m.index)));
        const span = document.createElement("span");
        span.setAttribute("data-govcheck-masked", kind);
        span.textContent = maskNumber(kind, num);
        frag.appendChild(span);
        last = m.index + num.length;
        masked++;
      }
      frag.appendChild(document.createTextNode(d.slice(last)));
      n.parentNode.replaceChild(frag, n);
    }
    return masked;
  }

  // --------------------------------------------------------------- links and footer
  const LINKED = "a[href],area[href],img[src],script[src],link[href],iframe[src],frame[src],embed[src]," +
                 "source[src],object[data],video[src],audio[src]";
  function linkedElements() { return Array.from(document.querySelectorAll(LINKED)); }
  function links() { return linkedElements().map((e) => e.href || e.src || e.data || ""); }

  const FOOTER = "footer,[id*=foot i],[class*=foot i],[id*=bottom i],[class*=bottom i],[id*=copyright i]," +
                 "[class*=copyright i]";
  const FOOTER_WORDS = /版权所有|主办单位|主办：|备案|网站标识码|技术支持|承办/;
  function footerBox() {
    const docH = document.documentElement.scrollHeight;
    let best = null;
    for (const e of document.querySelectorAll(FOOTER)) {
      const r = elementRect(e);
      if (!r || r.height < 16 || r.width < window.innerWidth * 0.3 || r.top + r.height < docH * 0.5) continue;
      if (!best || r.width * r.height > best[1].width * best[1].height) best = [e, r];
    }
    if (best) return best;
    const nodes = textNodes().filter((n) => FOOTER_WORDS.test(n.data));
    if (nodes.length) {
      let e = nodes[nodes.length - 1].parentElement;
      while (e && e.parentElement && e.parentElement !== document.body) {
        const r = elementRect(e);
        if (r && r.width >= window.innerWidth * 0.3) break;
        e = e.parentElement;
      }
      const r = elementRect(e);
      if (r) return [e, r];
    }
    const kids = document.body ? Array.from(document.body.children).reverse() : [];
    for (const k of kids) {
      const r = elementRect(k);
      if (r) return [k, r];
    }
    return [null, null];
  }

  // --------------------------------------------------------------- drawing
  function clear() {
    for (const e of Array.from(document.querySelectorAll("[data-govcheck=outline]"))) e.remove();
  }

  function draw(rect, label) {
    const pad = 4, bw = 4;
    const box = document.createElement("div");
    box.setAttribute("data-govcheck", "outline");
    const left = Math.max(0, rect.left - pad - bw), top = Math.max(0, rect.top - pad - bw);
    const docW = Math.max(document.documentElement.scrollWidth, window.innerWidth);
    const width = Math.min(rect.width + 2 * (pad + bw), docW - left), height = rect.height + 2 * (pad + bw);
    Object.assign(box.style, {
      position: "absolute", left: left + "px", top: top + "px", width: width + "px", height: height + "px",
      border: bw + "px solid " + COLOR, boxSizing: "border-box", zIndex: "2147483647", pointerEvents: "none",
      background: "transparent", margin: "0", padding: "0", transform: "none",
    });
    const tag = document.createElement("div");
    tag.setAttribute("data-govcheck", "outline");
    tag.textContent = label;
    const above = top >= 26;
    Object.assign(tag.style, {
      position: "absolute", left: left + "px", top: (above ? top - 24 : top + height) + "px", maxWidth: "900px",
      background: COLOR, color: "#fff", font: "bold 14px/20px 'Noto Sans CJK SC', sans-serif", padding: "2px 8px",
      zIndex: "2147483647", whiteSpace: "nowrap", overflow: "hidden", textOverflow: "ellipsis", margin: "0",
      pointerEvents: "none", letterSpacing: "0", textAlign: "left",
    });
    document.documentElement.appendChild(box);
    document.documentElement.appendChild(tag);
    const y = Math.max(0, top - Math.max(40, (window.innerHeight - height) / 2));
    const x = Math.max(0, left + width > window.innerWidth ? left - 40 : 0);
    window.scrollTo(x, y);
  }

  function mark(spec) {
    clear();
    let rect = null, how = null;
    if (spec.kind === "text" || spec.kind === "row") {
      for (const t of spec.texts || []) {
        const hit = findText(t);
        if (!hit) continue;
        if (spec.kind === "row") {
          const e = block(hit.range.startContainer.parentElement);
          rect = elementRect(e) || hit.rect;
        } else {
          rect = hit.rect;
          if (!rect) [, rect] = visibleAncestor(hit.range.startContainer.parentElement);
        }
        if (rect) { how = "文字「" + t.slice(0, 30) + "」"; break; }
      }
    } else if (spec.kind === "masked") {
      const spans = Array.from(document.querySelectorAll("[data-govcheck-masked]"));
      const hit = spans.find((s) => s.getAttribute("data-govcheck-masked") === spec.personal && elementRect(s)) ||
                  spans.find((s) => elementRect(s));
      if (hit) { rect = elementRect(hit); how = "未脱敏号码（截图中已遮盖）"; }
    } else if (spec.kind === "link") {
      const els = linkedElements();
      for (const i of spec.indexes || []) {
        const e = els[i];
        rect = elementRect(e);
        if (rect) { how = "链接元素 <" + e.tagName.toLowerCase() + ">"; break; }
      }
      if (!rect) {
        // A hidden link (暗链) is shown where it is planted: its hiding undone for the picture.
        for (const i of spec.indexes || []) {
          const e = els[i];
          if (!e || !e.closest("body") || !reveal(e)) continue;
          rect = elementRect(e);
          if (rect) { how = "隐藏链接（截图时取消隐藏） <" + e.tagName.toLowerCase() + ">"; break; }
        }
      }
    } else if (spec.kind === "footer") {
      const [e, r] = footerBox();
      if (e) { rect = r; how = "页脚区域 <" + e.tagName.toLowerCase() + ">"; }
    } else if (spec.kind === "region") {
      for (const t of spec.texts || []) {
        const hit = findText(t);
        if (!hit) continue;
        let e = hit.range.startContainer.parentElement;
        while (e && e.parentElement && e.parentElement !== document.body) {
          const r = elementRect(e);
          if (r && r.height >= 120 && r.width >= 300) break;
          e = e.parentElement;
        }
        rect = elementRect(e) || hit.rect;
        if (rect) { how = "栏目区域「" + t.slice(0, 20) + "」"; break; }
      }
    }
    if (!rect) return {outlined: false, located: null};
    draw(rect, spec.label);
    return {outlined: true, located: how};
  }

  window.govcheck = {mask, links, mark};
  return true;
})()
