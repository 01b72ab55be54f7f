export function bytes(n) {
	if (n == null || !Number.isFinite(n)) return '–';
	if (n < 1024) return `${n} B`;
	const units = ['KB', 'MB', 'GB', 'TB'];
	let v = n / 1024;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(seconds) {
	if (seconds == null || !Number.isFinite(seconds)) return '–';
	const s = Math.max(0, Math.round(seconds));
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ${s % 60} s`;
	return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A time for people; `asTaken`: a capture time, shown as the camera's clock said it. */
export function when(iso, asTaken = false) {
	if (!iso) return '–';
	if (asTaken) return iso.replace('T', ' ').replace(/(\.\d+)?(Z|[+-]\d\d:\d\d)$/, '');
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function num(n) {
	return n == null ? '–' : Number(n).toLocaleString();
}
